"""``nta``: the 国税庁 法人番号システム Web-API, version 4 (https://www.houjin-bangou.nta.go.jp/webapi/).

``GET {nta_api_url}/num?id=<アプリケーションID>&number=<13 digits>&type=12&history=0`` answers XML
(type 12 = XML, Unicode): ``<corporations>`` with ``<count>`` and one ``<corporation>`` per match
(``name``, ``furigana``, ``prefectureName``, ``cityName``, ``streetNumber``, ``postCode``,
``closeDate`` …). ``count`` 0 means no such corporation. The application ID is issued by 国税庁
on application (by post); without it the API answers 403. The response is read with the standard
library's expat parser after refusing any DTD (no entity expansion) and anything over 1 MB.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from server.plugins.corporate.base import CorporateLookup, Corporation, LookupUnavailable, registry
from shared.plugins import CheckResult

MAX_RESPONSE = 1024 * 1024


def parse(body: bytes, number: str) -> Corporation | None:
    """The corporation for ``number`` in a Web-API XML answer (raises LookupUnavailable if broken)."""
    if len(body) > MAX_RESPONSE or b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise LookupUnavailable()
    try:
        root = ET.fromstring(body)  # noqa: S314 - DTDs refused above, so no entity expansion
    except ET.ParseError:
        raise LookupUnavailable() from None
    if root.tag != "corporations":
        raise LookupUnavailable()
    for corp in root.findall("corporation"):

        def text(tag: str, node: ET.Element = corp) -> str:
            return (node.findtext(tag) or "").strip()

        if text("corporateNumber") != number:
            continue
        if text("latest") not in ("", "1"):
            continue
        address = text("prefectureName") + text("cityName") + text("streetNumber")
        return Corporation(
            number=number,
            name=text("name"),
            address=address or text("addressOutside"),
            postal_code=text("postCode"),
            furigana=text("furigana"),
            closed=bool(text("closeDate")),
        )
    return None


@registry.register
class NtaLookup(CorporateLookup):
    plugin_id = "nta"
    label = "国税庁 法人番号システム Web-API"
    # The Web-API's terms of use require this sentence wherever its data is shown.
    notice = (
        "このサービスは、国税庁法人番号システムのWeb-API機能を利用して取得した情報をもとに"
        "作成しているが、サービスの内容は国税庁によって保証されたものではない。"
    )

    def check(self) -> CheckResult:
        if self.settings.nta_application_id is None:
            return CheckResult(ok=False, message="国税庁のアプリケーションIDが設定されていません。")
        return CheckResult(ok=True, message="設定済みです。")

    async def lookup(self, number: str) -> Corporation | None:
        app_id = self.settings.nta_application_id
        if app_id is None:
            raise LookupUnavailable()
        params = {"id": app_id.get_secret_value(), "number": number, "type": "12", "history": "0"}
        try:
            async with httpx.AsyncClient(timeout=self.settings.nta_timeout_seconds) as client:
                r = await client.get(f"{self.settings.nta_api_url}/num", params=params)
        except httpx.HTTPError:
            raise LookupUnavailable() from None
        if r.status_code != 200:
            raise LookupUnavailable()
        return parse(r.content, number)
