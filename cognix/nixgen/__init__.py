"""cognix.nixgen: Nix files for a Cog project (`cognix init`), rendered from jinja2 templates."""

from cognix.nixgen.init import (
    DEFAULT_FLAKE_URL,
    InitResult,
    flake_name,
    init_project,
    render_flake,
)

__all__ = ["DEFAULT_FLAKE_URL", "InitResult", "flake_name", "init_project", "render_flake"]
