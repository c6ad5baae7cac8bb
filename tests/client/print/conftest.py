"""Print test fixtures: the font once per session, the sample household, rendered forms."""

from __future__ import annotations

import pytest

from client.core.print.fonts import MjFont, mj_font
from client.core.print.service import PrintedForm, render_forms
from shared.models.movement_notice import MovementNotice
from tests.client.print.samples import household


@pytest.fixture(scope="session")
def font() -> MjFont:
    return mj_font()


@pytest.fixture(scope="session")
def notice() -> MovementNotice:
    return household(4)


@pytest.fixture(scope="session")
def forms(font: MjFont, notice: MovementNotice) -> list[PrintedForm]:
    return render_forms(notice)
