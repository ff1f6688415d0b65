"""A provider is one package: no code outside ``providers/`` (and the emulator kit) branches on a
provider's name; it asks the provider's ``ProviderSpec`` instead (ARCHITECTURE.md, principle 1)."""

from __future__ import annotations

import re
from pathlib import Path

from vidgate.providers.registry import aliases, provider_names

SRC = Path(__file__).parents[1] / "src" / "vidgate"
EXEMPT = ("providers", "emulators")


def test_no_provider_name_in_a_conditional_outside_the_provider_packages() -> None:
    names = sorted({*provider_names(), *aliases()}, key=len, reverse=True)
    alternatives = "|".join(map(re.escape, names))
    pattern = re.compile(r"""(if|elif|==|!=|\bin) *\(?["'](""" + alternatives + r""")["']""")
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] not in EXEMPT
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
