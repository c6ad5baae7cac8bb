"""Permission names. Deny by default: a route or screen needs one of these, granted to a group.

The set is closed: the server refuses to grant a name that is not here.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    reception_create = "reception.create"  # 受付の登録
    reception_read = "reception.read"  # 受付の照会
    my_number_view = "my_number.view"  # 個人番号の表示
    user_manage = "user.manage"  # 利用者・グループの管理
    audit_read = "audit.read"  # 操作ログの閲覧
    template_manage = "template.manage"  # 帳票定義・OCRテンプレートの管理
    settings_manage = "settings.manage"  # 設定の管理
    mode_counter = "mode.counter"  # 窓口モードの利用
    mode_supervisor = "mode.supervisor"  # 管理者モードの利用
    mode_kiosk = "mode.kiosk"  # キオスクモードの利用
    record_search = "record.search"  # 受付の検索 (全職員の受付)
    record_purge = "record.purge"  # 保存期限を過ぎた記録の削除
    eform_manage = "eform.manage"  # オンライン申請の手続きの作成・公開
    eform_review = "eform.review"  # オンライン申請の審査・状態変更・CSV出力
    payment_refund = "payment.refund"  # オンライン申請の決済金額の設定・返金
    report_read = "report.read"  # 運用報告 (受付件数・処理時間) の出力
    phrase_manage = "phrase.manage"  # 団体共通の語句 (語句登録) の管理
    eform_all_orgs = "eform.all_orgs"  # 全課の手続き・申請 (課の所属を問わない)

    @property
    def label(self) -> str:
        return PERMISSION_LABELS[self]


PERMISSION_LABELS: dict[Permission, str] = {
    Permission.reception_create: "受付の登録",
    Permission.reception_read: "受付の照会",
    Permission.my_number_view: "個人番号の表示",
    Permission.user_manage: "利用者・グループの管理",
    Permission.audit_read: "操作ログの閲覧",
    Permission.template_manage: "帳票定義・OCRテンプレートの管理",
    Permission.settings_manage: "設定の管理",
    Permission.mode_counter: "窓口モードの利用",
    Permission.mode_supervisor: "管理者モードの利用",
    Permission.mode_kiosk: "キオスクモードの利用",
    Permission.record_search: "受付の検索 (全職員の受付)",
    Permission.record_purge: "保存期限を過ぎた記録の削除",
    Permission.eform_manage: "オンライン申請の手続きの作成・公開",
    Permission.eform_review: "オンライン申請の審査・状態変更・CSV出力",
    Permission.payment_refund: "オンライン申請の決済金額の設定・返金",
    Permission.report_read: "運用報告 (受付件数・処理時間) の出力",
    Permission.phrase_manage: "団体共通の語句 (語句登録) の管理",
    Permission.eform_all_orgs: "全課の手続き・申請 (課の所属を問わない)",
}
