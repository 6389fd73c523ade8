"""Channel connectors: each platform's order export files and order API mapped to `ChannelOrder`.

    get_connector("taobao").parse_file(path)          → ParseResult(orders, errors, encoding, rows)
    get_connector("pdd").iter_file(path)              → streamed ChannelOrder | RowError
    get_connector("jd").fetch_since(client, cursor)   → FetchResult(orders, next_cursor, has_more)
    get_connector("tmall").push_shipment(client, tid, "SF", "SF1234567890")

See base.py for the shared reading rules and each platform module for its columns and API.
"""

from __future__ import annotations

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _

from .base import Connector, ConnectorError, FetchResult, PlatformClient, detect_encoding
from .generic import GenericConnector
from .jd import JdConnector
from .miniapp import MiniappConnector
from .pdd import PddConnector
from .taobao import TaobaoConnector, TmallConnector

_CONNECTORS: dict[str, Connector] = {c.channel: c for c in (
    TaobaoConnector(), TmallConnector(), JdConnector(), PddConnector(), MiniappConnector(), GenericConnector())}

CHANNELS: tuple[str, ...] = tuple(_CONNECTORS)
CHANNEL_LABELS: dict[str, str] = {k: c.label for k, c in _CONNECTORS.items()}


def get_connector(channel: str) -> Connector:
    try:
        return _CONNECTORS[channel]
    except KeyError:
        raise ValidationFailed(_("不支持的渠道：{ch}（可选：{all}）", ch=channel, all="、".join(CHANNELS)),
                               field="channel") from None


def client_for_shop(shop, **kwargs) -> PlatformClient:
    """A PlatformClient for an OmsShop's API settings (api_base_url, app_key, app_secret,
    access_token); the platform's documented endpoint when the shop has no base URL."""
    return get_connector(shop.channel).client(
        base_url=getattr(shop, "api_base_url", None) or None, app_key=getattr(shop, "app_key", None) or "",
        app_secret=getattr(shop, "app_secret", None) or "", access_token=getattr(shop, "access_token", None) or "",
        **kwargs)


__all__ = ["CHANNELS", "CHANNEL_LABELS", "Connector", "ConnectorError", "FetchResult", "PlatformClient",
           "client_for_shop", "detect_encoding", "get_connector"]
