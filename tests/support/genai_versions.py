"""Which google-genai major version is installed, and the mark for the judge only 2.x can run.

google-genai 3.x dropped Veo on the Gemini API: ``models.generate_videos`` raises ``ValueError`` ("only
supported in Gemini Enterprise Agent Platform mode") in Developer API mode. The dev extra installs 3.x
(the Interactions and Vertex judges); the Gemini-API Veo judge runs under 2.x: ``scripts/setup`` installs
google-genai 2.34.0 into ``.venv/genai2`` and a full ``scripts/test`` runs these files again with it first
on the path (``PYTHONPATH=.venv/genai2``), where the marked tests run instead of skipping."""

from __future__ import annotations

from importlib.metadata import version

import pytest

GENAI_MAJOR = int(version("google-genai").split(".", 1)[0])

gemini_api_veo_judge = pytest.mark.skipif(
    GENAI_MAJOR >= 3,
    reason="google-genai >= 3 has no Veo on the Gemini API; this judge runs with google-genai 2.x",
)
