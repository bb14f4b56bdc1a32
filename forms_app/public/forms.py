"""The two public request forms and the status lookup (Flask-WTF, Japanese messages).

Every field has a character limit; limits are checked on the server only (no ``maxlength``
attribute, which would silently cut pasted text). The support ID itself is checked against
the database by the view.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, StopValidation, ValidationError

from forms_app import inputs
from forms_app.frame import site_frame
from forms_app.public.support_ids import MAX_INPUT_CHARS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _newlines(value: Any) -> Any:
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


class TextRule:
    """`inputs.problem` on a text field: characters, line breaks, at most `limit` characters.

    No HTML ``maxlength``: the text is kept and the error shown beside it.
    """

    def __init__(self, limit: int, *, multiline: bool = False) -> None:
        self.limit = limit
        self.multiline = multiline

    def __call__(self, form: FlaskForm, field: Field) -> None:
        message = inputs.problem(field.data or "", multiline=self.multiline, limit=self.limit)
        if message is not None:
            raise StopValidation(message)


def required(message: str) -> DataRequired:
    return DataRequired(message=message)


class RequiredForProblem:
    """Required when the feedback kind is a problem report."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.field_flags: dict[str, bool] = {}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if form.kind.data == "problem" and not (field.data or "").strip():
            raise StopValidation(self.message)


def email_address(form: FlaskForm, field: Field) -> None:
    if field.data and not _EMAIL.match(field.data):
        raise ValidationError("メールアドレスの形式が正しくありません(例: name@example.jp)。")


def own_site_url(form: FlaskForm, field: Field) -> None:
    """Only a page of our own site: a path starting with / or a URL on SITE_URL's host.

    The request's Host header is never consulted: a client chooses it.
    """
    value = field.data or ""
    if not value:
        return
    parts = urlsplit(value)
    plain = "\\" not in value and not any(ch.isspace() for ch in value)
    is_path = not parts.scheme and not parts.netloc and not value.startswith("//")
    if plain and is_path and value.startswith("/"):
        return
    site_host = urlsplit(str(current_app.config.get("SITE_URL") or "")).netloc.lower()
    if plain and site_host and parts.scheme in ("http", "https") and (
        parts.netloc.lower() == site_host
    ):
        return
    example = site_frame().links.get("example")
    raise ValidationError(
        "このサイトのページのURLを入力してください"
        + (f"(例: {example})。" if example else "。")
    )


class ChoiceRequired:
    """The value must be one of the field's choices (Japanese message, no HTML flag)."""

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        values = {str(choice.value) for choice in field.choices or []}
        if not field.data or str(field.data) not in values:
            raise StopValidation(self.message)


def _text(label: str, limit: int, *extra: Any, multiline: bool = False, **kw: Any) -> Field:
    cls = TextAreaField if multiline else StringField
    filters = [_newlines] if multiline else [_strip]
    rule = TextRule(limit, multiline=multiline)
    return cls(label, validators=[rule, *extra], filters=filters, **kw)


class RequestForm(FlaskForm):
    """Fields both forms share: support ID, contact address, honeypot.

    The CSRF token is checked once per POST by the app-wide `CSRFProtect` (before the view
    runs), and put into the page by the template (``csrf_token()``) only when a form is
    shown, so the form object neither makes a token nor checks it a second time.
    """

    class Meta:
        csrf = False

    support_id = _text(
        "サポートID",
        MAX_INPUT_CHARS,
        required("サポートIDを入力してください。"),
        description=(
            "対象製品のライセンスとあわせてお渡ししているIDです。"
            "全角・半角、ハイフンの有無は問いません。"
        ),
    )
    contact_email = _text(
        "連絡先メールアドレス(任意)",
        254,
        Optional(),
        email_address,
        description="内容の確認が必要なときにだけ使います。個別のご回答はお送りしていません。",
    )
    # Honeypot: hidden from people by CSS and from assistive technology; bots fill it.
    website = StringField("ウェブサイト(入力しないでください)", filters=[_strip])

    def honeypot_filled(self) -> bool:
        return bool(self.website.data)


KIND_CHOICES = [SelectChoice("request", "機能要望"), SelectChoice("problem", "問題報告")]
TARGET_CHOICES = [SelectChoice("faq", "FAQ(よくあるご質問)"), SelectChoice("manual", "マニュアル")]


class FeedbackForm(RequestForm):
    """機能要望・問題報告."""

    kind = RadioField(
        "ご連絡の種類",
        choices=KIND_CHOICES,
        validate_choice=False,
        validators=[ChoiceRequired("ご連絡の種類を選んでください。")],
    )
    product = SelectField(
        "製品",
        choices=[],
        validate_choice=False,
        validators=[ChoiceRequired("製品を選んでください。")],
    )
    version = _text(
        "バージョン", 40, required("バージョンを入力してください(わからない場合は「不明」)。"),
        # No example number: the content names no version of CMSKIT to show.
        description="お使いの製品のバージョンを入力してください。わからない場合は「不明」と入力してください。",
    )
    title = _text("件名", 100, required("件名を入力してください。"))
    description = _text(
        "内容", 2000, required("内容を入力してください。"), multiline=True,
        description="ご要望の場合は、実現したいことと、その理由をお書きください。",
    )
    steps = _text(
        "再現手順(問題報告の場合は必須)", 2000,
        RequiredForProblem("問題報告では、再現手順を入力してください。"), multiline=True,
        description="問題が起きるまでの操作を、順番にお書きください。",
    )
    expected = _text(
        "期待した結果(問題報告の場合は必須)", 1000,
        RequiredForProblem("問題報告では、期待した結果を入力してください。"), multiline=True,
    )
    actual = _text(
        "実際の結果(問題報告の場合は必須)", 1000,
        RequiredForProblem("問題報告では、実際の結果を入力してください。"), multiline=True,
    )
    environment = _text(
        "ブラウザ・動作環境", 500, multiline=True,
        description="例: Chrome 130 / Windows 11、サーバーのOSやPHPのバージョンなど。",
    )

    def set_products(self, products: Sequence[tuple[str, str]]) -> None:
        self.product.choices = [
            SelectChoice("", "選択してください"),
            *(SelectChoice(pid, name) for pid, name in products),
        ]


class DocsRequestForm(RequestForm):
    """Q&A・マニュアルへの記載要望."""

    target = RadioField(
        "ご要望の対象",
        choices=TARGET_CHOICES,
        validate_choice=False,
        validators=[ChoiceRequired("FAQかマニュアルかを選んでください。")],
    )
    page_url = _text(
        "対象ページのURL(任意)", 500, own_site_url,
        # The example (a real question of the site) is added by the template from the frame.
        description="このサイト内のページに限ります。",
    )
    missing = _text(
        "不足している内容・わかりにくい点", 2000, required("不足している内容を入力してください。"),
        multiline=True,
    )
    suggested = _text(
        "記載してほしい内容(文案・任意)", 2000, multiline=True,
        description="載せてほしい文章の案があればお書きください。",
    )


class StatusForm(FlaskForm):
    """Receipt lookup (GET, no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    receipt = _text("受付番号", 40, required("受付番号を入力してください。"))
