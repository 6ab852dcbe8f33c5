"""Settings for NewsBrief: one schema, built once in ``main()`` and passed down."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
