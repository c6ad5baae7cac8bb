"""Default mail texts per event; a procedure's own ``mails`` replace them (spec 002 6(2)②)."""

from __future__ import annotations

from shared.schemas.eform import MailEvent, MailText

_FOOTER = "\n\n※このメールは送信専用です。お問い合わせは手続きの案内ページの問い合わせ先へお願いします。\n"

DEFAULTS: dict[MailEvent, MailText] = {
    MailEvent.submitted: MailText(
        subject="【{title}】申請を受け付けました（{reference}）",
        body="{title}の申請を受け付けました。\n申請番号: {reference}\n状況の確認: {url}" + _FOOTER,
    ),
    MailEvent.withdrawn: MailText(
        subject="【{title}】申請を取り下げました（{reference}）",
        body="申請番号 {reference} の申請を取り下げました。\n状況の確認: {url}" + _FOOTER,
    ),
    MailEvent.reviewed: MailText(
        subject="【{title}】審査が完了しました（{reference}）",
        body="申請番号 {reference} の審査が完了しました。\n状況の確認: {url}" + _FOOTER,
    ),
    MailEvent.rejected: MailText(
        subject="【{title}】申請を受理できませんでした（{reference}）",
        body="申請番号 {reference} の申請は受理できませんでした。\n理由: {comment}\n状況の確認: {url}"
        + _FOOTER,
    ),
    MailEvent.completed: MailText(
        subject="【{title}】対応が完了しました（{reference}）",
        body="申請番号 {reference} の対応が完了しました。\n状況の確認: {url}" + _FOOTER,
    ),
    MailEvent.payment_requested: MailText(
        subject="【{title}】手数料のお支払いのお願い（{reference}）",
        body="申請番号 {reference} の手数料は {amount}円 です。\n次のページからお支払いください。\n{pay_url}"
        + _FOOTER,
    ),
    MailEvent.refunded: MailText(
        subject="【{title}】返金しました（{reference}）",
        body="申請番号 {reference} の手数料 {amount}円 を返金しました。\n状況の確認: {url}" + _FOOTER,
    ),
    MailEvent.returned: MailText(
        subject="【{title}】申請内容の修正をお願いします（{reference}）",
        body="申請番号 {reference} の申請について、次の項目の修正をお願いします。\n\n{fields}\n{comment}\n"
        "次のリンクから修正して、もう一度提出してください（指定した項目だけを直せます）。\n{fix_url}\n\n"
        "このリンクを知っている人は申請内容を見ることができます。他の人に転送しないでください。" + _FOOTER,
    ),
}

VERIFICATION = MailText(
    subject="【{title}】メールアドレスの確認コード",
    body="{title}の申請を始めるための確認コードです。\n\n確認コード: {code}\n\n"
    "{minutes}分以内に申請画面に入力してください。心当たりのない場合はこのメールを破棄してください。"
    + _FOOTER,
)

RESUME = MailText(
    subject="【{title}】一時保存しました",
    body="{title}の入力内容を一時保存しました。次のリンクから続きを入力できます。\n{resume_url}\n\n"
    "このリンクを知っている人は申請内容を見ることができます。他の人に転送しないでください。" + _FOOTER,
)
