"""The platform-neutral chat core: neutral messages in and out, state per chat."""

from bot.core.chat import ChatCore, Session, SessionStore
from bot.core.messages import (
    Block,
    Bullets,
    Button,
    Context,
    Heading,
    Incoming,
    Quote,
    Reply,
    Text,
    plain_text,
)

__all__ = [
    "Block",
    "Bullets",
    "Button",
    "ChatCore",
    "Context",
    "Heading",
    "Incoming",
    "Quote",
    "Reply",
    "Session",
    "SessionStore",
    "Text",
    "plain_text",
]
