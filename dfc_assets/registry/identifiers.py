"""Dataset keys, dataset ids and StatCan product ids: what each must look like, over the whole string.

``\\A...\\Z`` rather than ``^...$``: ``$`` also matches before a trailing newline, so ``re.match`` with
``$`` would accept ``"demo\\n"``. Use ``fullmatch`` or these validators.
"""

from __future__ import annotations

import re

KEY_PATTERN = re.compile(r"\A[a-z][a-z0-9_]*\Z")
ID_PATTERN = re.compile(r"\A[a-z0-9][A-Za-z0-9._-]*\Z")
PRODUCT_ID_PATTERN = re.compile(r"\A\d{8}\Z")
MAX_IDENTIFIER_LENGTH = 200


class InvalidIdentifier(ValueError):
    """A dataset key, dataset id or product id that is not valid as a whole."""


def _check(value: object, pattern: re.Pattern[str], what: str, example: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_IDENTIFIER_LENGTH or not pattern.fullmatch(value):
        raise InvalidIdentifier(f"invalid {what} {value!r}: expected {example}, matching {pattern.pattern} as a whole "
                                "(no spaces, newlines or other control characters)")
    return value


def validate_dataset_key(key: object) -> str:
    return _check(key, KEY_PATTERN, "dataset key", "lower-case letters, digits and '_' such as 'statcan_table_33100036'")


def validate_dataset_id(dataset_id: object) -> str:
    return _check(dataset_id, ID_PATTERN, "dataset id", "an id such as 'ca_statcan_2021A000011124_d4c-datapkg-statistical_table_33100036'")


def is_product_id(value: object) -> bool:
    return isinstance(value, str) and PRODUCT_ID_PATTERN.fullmatch(value) is not None
