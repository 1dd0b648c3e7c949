"""The Debian system base: suite per Python version, mirror discovery, verified indexes, dependency resolution."""

from cognix.lock.debian.resolve import EXCLUDED, DebResolution, resolve_debs
from cognix.lock.debian.sources import AptSource, family_sources, read_apt_sources
from cognix.lock.debian.suites import (
    BASE_PACKAGES,
    STANDALONE_BASE,
    SETUP_PACKAGES,
    SUITES,
    SuiteInfo,
    debian_offers,
    base_packages,
    build_packages,
    RUN_TOOLS,
    build_only_packages,
    setup_only,
    suite_for_python,
)

__all__ = [
    "BASE_PACKAGES",
    "EXCLUDED",
    "SETUP_PACKAGES",
    "STANDALONE_BASE",
    "SUITES",
    "AptSource",
    "DebResolution",
    "SuiteInfo",
    "base_packages",
    "build_packages",
    "debian_offers",
    "family_sources",
    "read_apt_sources",
    "resolve_debs",
    "RUN_TOOLS",
    "build_only_packages",
    "setup_only",
    "suite_for_python",
]
