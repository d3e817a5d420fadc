"""Language choice: the user's saved choice, else the session's, else zh-CN."""

from __future__ import annotations

from typing import Any

from flask import Flask, session
from flask_babel import Babel, get_locale

from .auth.identity import current_principal
from .config import SUPPORTED_LOCALES

LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["COORDINATION"].default_locale
    principal = current_principal()
    if principal is not None and principal.locale in SUPPORTED_LOCALES:
        return principal.locale  # type: ignore[return-value]
    chosen = session.get("locale")
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return current_app.config["COORDINATION"].default_locale


def current_code() -> str:
    """The active locale as one of SUPPORTED_LOCALES (Babel spells zh_CN zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def html_lang() -> str:
    """BCP 47 tag for <html lang>, so browsers pick CJK fonts and screen readers the voice."""
    return "zh-CN" if current_code() == "zh_CN" else "en"


def init_i18n(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _i18n_globals() -> dict[str, Any]:
        return {
            "locales": LOCALE_NAMES,
            "current_locale": current_code(),
            "html_lang": html_lang(),
        }
