"""pydantic models shared by client and server."""

from shared.models.movement_notice import (
    Address,
    MovementKind,
    MovementNotice,
    Notifier,
    NotifierStanding,
    Person,
    ResidenceCategory,
    Sex,
    SocialInsurance,
)

__all__ = [
    "Address",
    "MovementKind",
    "MovementNotice",
    "Notifier",
    "NotifierStanding",
    "Person",
    "ResidenceCategory",
    "Sex",
    "SocialInsurance",
]
