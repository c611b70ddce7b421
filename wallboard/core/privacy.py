"""Caller numbers are personal data: masked on every view and export unless a desk is authorised."""

from __future__ import annotations


def mask_phone(number: str | None, unmasked: bool = False) -> str:
    """``081234565678`` -> ``0812****5678``: keep the operator prefix and the last four digits.

    Short or odd strings keep at most their last two characters, so nothing identifying leaks.
    """
    if not number:
        return ""
    if unmasked:
        return number
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if len(digits) >= 10:
        return f"{digits[:4]}{'*' * 4}{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)
