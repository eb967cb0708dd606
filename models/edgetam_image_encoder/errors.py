"""How this package reports a problem the user can fix.

Why a helper instead of importing the kit's exception directly: a model package must
work without the kit (the design's model-package contract). Inside the kit,
``sme2prof`` is importable and we raise its ``UserError`` so entry scripts print
``error:``/``fix:`` and exit 2; outside it we raise a plain ``ValueError`` whose text
still carries the fix.
"""
from __future__ import annotations

SETUP_HINT = ("EdgeTAM needs timm + torchvision: run `bash scripts/setup_vision_env.sh` "
              "and use .venv-vision/bin/python")


def user_error(message: str, fix: str) -> Exception:
    """Build (not raise) the exception for a user-fixable problem."""
    try:
        from sme2prof.errors import UserError
    except ImportError:
        return ValueError(f"{message} (fix: {fix})")
    return UserError(message, fix)
