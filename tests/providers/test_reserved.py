"""providers.reserved: the one check that keeps extra_body from overriding a priced field (issue 7)."""

from __future__ import annotations

import pytest

from vidgate.errors import BadRequestError
from vidgate.providers.registry import get_provider
from vidgate.providers.reserved import check_extra, check_extra_for, normalized, refuse_overlap
from vidgate.types import FilePart


def test_names_compare_without_case_separators_or_brackets() -> None:
    assert normalized("durationSeconds") == normalized("duration_seconds") == normalized("DURATION-SECONDS")
    assert normalized("input_reference[image_url]") == "inputreference"


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("\u017feed", "seed"),  # LATIN SMALL LETTER LONG S: Go's encoding/json folds it onto "s"
        ("\u212aling", "kling"),  # KELVIN SIGN: folds onto "k"
        ("s\u0131ze", "size"),  # DOTLESS I: Java's equalsIgnoreCase matches it to "i"
        ("\uff53\uff45\uff45\uff44", "seed"),  # fullwidth letters
        ("input_reference\uff3bimage_url\uff3d", "inputreference"),  # fullwidth brackets
    ],
)
def test_letters_other_decoders_fold_onto_ascii_compare_as_that_ascii(key: str, name: str) -> None:
    assert normalized(key) == name


def test_a_folded_spelling_of_a_reserved_name_is_refused() -> None:
    with pytest.raises(BadRequestError) as info:
        check_extra({"\u017feed": 1}, {})
    assert info.value.param == "extra_body.\u017feed"


@pytest.mark.parametrize(
    ("provider", "key", "use"),
    [
        ("openai", "seconds", "seconds"),
        ("azure", "n_variants", "n"),
        ("gemini", "sampleCount", "n"),
        ("vertex_ai", "aspect_ratio", "size"),
        ("vertex_ai", "video", ""),
        ("local", "model", "model"),
    ],
)
def test_every_adapter_declares_its_names(provider: str, key: str, use: str) -> None:
    with pytest.raises(BadRequestError) as info:
        check_extra_for(get_provider(provider), {key: 1})
    assert info.value.param == f"extra_body.{key}"
    assert (f"Use the '{use}' parameter" if use else "no parameter for it") in info.value.message


@pytest.mark.parametrize(
    ("provider", "key"), [("openai", "metadata"), ("gemini", "enhancePrompt"), ("vertex_ai", "storageUri")]
)
def test_other_pass_through_keys_are_allowed(provider: str, key: str) -> None:
    check_extra_for(get_provider(provider), {key: 1})


def test_overlap_with_the_built_body_is_refused_whatever_is_declared() -> None:
    check_extra({"webhook": 1}, {})
    with pytest.raises(BadRequestError):
        refuse_overlap({"webhook": 1}, {"webhook": 0})


def test_a_file_part_passes_only_to_an_adapter_that_forwards_file_parts() -> None:
    extra = {"audio_reference": FilePart("beat.wav", "audio/wav", b"RIFF")}
    check_extra_for(get_provider("openai_compatible"), extra)  # forwarded as a form file part
    with pytest.raises(BadRequestError) as refused:
        check_extra_for(get_provider("replicate"), extra)  # a JSON body would carry the upload's repr
    assert refused.value.param == "extra_body.audio_reference"
