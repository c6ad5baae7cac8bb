"""The 法人番号 lookup contract: a checked 13-digit number in, the corporation's name and head-office
address out (or None when no corporation has that number). A service that cannot answer raises
:class:`LookupUnavailable`; the portal then tells the resident to type the name by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from shared.errors import MadoguchiError
from shared.plugins import Plugin, Registry

if TYPE_CHECKING:
    from server.config import Settings


class LookupUnavailable(MadoguchiError):
    code = "corporate.lookup_unavailable"
    http_status = 503
    default_message = (
        "法人番号から名称を調べるサービスに接続できませんでした。名称と所在地を直接入力してください。"
    )


@dataclass(frozen=True)
class Corporation:
    """One corporation as the lookup knows it."""

    number: str
    name: str
    address: str
    postal_code: str = ""
    furigana: str = ""
    closed: bool = False  # 登記記録の閉鎖等

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "number": self.number,
            "name": self.name,
            "address": self.address,
            "postal_code": self.postal_code,
            "furigana": self.furigana,
            "closed": self.closed,
        }


class CorporateLookup(Plugin):
    """What every 法人番号 lookup offers."""

    #: A credit the service's terms require next to its data (shown with every result).
    notice: ClassVar[str] = ""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def lookup(self, number: str) -> Corporation | None:
        """The corporation with the (already checked) 13-digit ``number``, or None."""
        raise NotImplementedError


registry: Registry[CorporateLookup] = Registry(
    "corporate_lookup", modules=("server.plugins.corporate.sandbox", "server.plugins.corporate.nta")
)
