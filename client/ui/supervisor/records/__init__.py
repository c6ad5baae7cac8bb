"""管理者モードの記録画面: 受付の検索・表示・文書の再表示 (再印刷), 運用報告, バックアップの状態。"""

from .panel import RecordsPanel

__all__ = ["RecordsPanel"]
