"""Language choice: the user's saved choice, else the session's, else zh-CN."""

from __future__ import annotations

from typing import Any, cast

from babel import support
from flask import Flask, session
from flask_babel import Babel, Domain, get_locale

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


class CatalogueDomain(Domain):
    """Loads the catalogue from the directory named by our code (zh_CN/, en/).

    Babel parses "zh_CN" as zh_Hans_CN, and gettext then looks in zh_Hans_CN/ and
    zh/ only, so Flask-Babel's own lookup never finds zh_CN/ and every page falls
    back to the English msgids.
    """

    def get_translations(self) -> support.NullTranslations:
        if get_locale() is None:
            return support.NullTranslations()
        code = current_code()
        cache = self.get_translations_cache(None)
        key = (code, self.domain[0])
        if key not in cache:
            translations = support.Translations()
            for dirname in self.translation_directories:
                catalog = support.Translations.load(dirname, [code], self.domain[0])
                translations.merge(cast(support.Translations, catalog))
                if hasattr(catalog, "plural"):
                    translations.plural = catalog.plural
            cache[key] = translations
        return cache[key]


def pick(text: Any) -> str:
    """The reader's half of a {zh, en} pair written in a plan or scenario file."""
    if isinstance(text, dict):
        zh, en = text.get("zh"), text.get("en")
        return str((zh or en) if current_code().startswith("zh") else (en or zh) or "")
    return "" if text is None else str(text)


def init_i18n(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    babel.domain_instance = CatalogueDomain(domain="messages")  # replaces a cached_property
    app.add_template_filter(pick, "pick")

    @app.context_processor
    def _i18n_globals() -> dict[str, Any]:
        return {
            "locales": LOCALE_NAMES,
            "current_locale": current_code(),
            "html_lang": html_lang(),
        }
