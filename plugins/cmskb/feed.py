"""The news feed: RSS 2.0 built with the standard library."""

from __future__ import annotations

import datetime as dt
import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

from cmskb.content.model import NewsItem
from cmskb.content.render import summary

# News items carry a date only; they are published at 10:00 Japan time.
JST = dt.timezone(dt.timedelta(hours=9), "JST")
PUBLISH_TIME = dt.time(10, 0, tzinfo=JST)


def rfc822(day: dt.date) -> str:
    """RFC 822 date of a news day (``Thu, 15 Oct 2026 10:00:00 +0900``)."""
    return email.utils.format_datetime(dt.datetime.combine(day, PUBLISH_TIME))


def build_rss(
    *,
    title: str,
    description: str,
    site_url: str,
    feed_url: str,
    items: Sequence[NewsItem],
    item_url: Callable[[NewsItem], str],
    language: str = "ja",
) -> bytes:
    """An RSS 2.0 document (UTF-8 bytes); `items` are newest first, URLs absolute."""
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": "http://www.w3.org/2005/Atom"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", title)
    _text(channel, "link", site_url)
    _text(channel, "description", description)
    _text(channel, "language", language)
    ET.SubElement(
        channel,
        "atom:link",
        {"href": feed_url, "rel": "self", "type": "application/rss+xml"},
    )
    if items:
        _text(channel, "lastBuildDate", rfc822(max(item.date for item in items)))
    for item in items:
        url = item_url(item)
        entry = ET.SubElement(channel, "item")
        _text(entry, "title", item.title)
        _text(entry, "link", url)
        _text(entry, "guid", url).set("isPermaLink", "true")
        _text(entry, "pubDate", rfc822(item.date))
        _text(entry, "description", summary(item.body, limit=300))
        if item.category:
            _text(entry, "category", item.category)
    ET.indent(rss)
    data: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return data


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element
