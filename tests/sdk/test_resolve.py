"""Model names -> provider + catalogue row (or proxy mode); credentials: argument > module > env."""

from __future__ import annotations

import pytest

import vidgate
from vidgate.errors import AuthenticationError, BadRequestError, NotFoundError
from vidgate.providers.gemini.adapter import DEFAULT_API_BASE as GEMINI_DEFAULT_BASE
from vidgate.providers.openai.adapter import OpenAIProvider
from vidgate.sdk.ids import VideoRef, encode
from vidgate.sdk.resolve import ClientConfig, credentials, proxy_base, resolve_model, resolve_video

NONE = ClientConfig()


@pytest.mark.parametrize(
    ("model", "provider", "name", "spec_id"),
    [
        ("openai/sora-2", "openai", "sora-2", "openai/sora-2"),
        ("sora-2", "openai", "sora-2", "openai/sora-2"),  # azure rows never match bare names
        ("sora-2-pro", "openai", "sora-2-pro", "openai/sora-2-pro"),
        ("sora-2-2025-10-06", "openai", "sora-2", "openai/sora-2"),  # a snapshot alias
        (
            "gemini/veo-3.1-generate-preview",
            "gemini",
            "veo-3.1-generate-preview",
            "gemini/veo-3.1-generate-preview",
        ),
        ("veo-3.0-generate-preview", "gemini", "veo-3.0-generate-preview", "gemini/veo-3.0-generate-preview"),
        (
            "vertex/veo-3.1-generate-001",
            "vertex_ai",
            "veo-3.1-generate-001",
            "vertex_ai/veo-3.1-generate-001",
        ),
        (
            "vertex_ai/veo-3.1-generate-preview",
            "vertex_ai",
            "veo-3.1-generate-preview",
            "vertex_ai/veo-3.1-generate-001",
        ),
        ("azure/sora-2", "azure", "sora-2", "azure/sora-2"),
        ("local/local-1", "local", "local-1", "local/local-1"),
        ("local-1", "local", "local-1", "local/local-1"),
    ],
)
def test_model_resolution(model: str, provider: str, name: str, spec_id: str) -> None:
    route = resolve_model(model, NONE)
    assert (route.provider, route.model, route.proxy) == (provider, name, False)
    assert route.spec is not None
    assert route.spec.id == spec_id


def test_azure_deployment_names_validate_as_their_base_model() -> None:
    route = resolve_model("azure/my-sora", NONE)
    assert route.model == "my-sora"
    assert route.spec is not None
    assert route.spec.id == "azure/sora-2"
    pro = resolve_model("azure/my-sora", ClientConfig(base_model="sora-2-pro"))
    assert pro.spec is not None
    assert pro.spec.id == "azure/sora-2-pro"
    with pytest.raises(BadRequestError, match="Unknown base_model") as info:
        resolve_model("azure/x", ClientConfig(base_model="nope"))
    assert info.value.param == "base_model"


def test_ambiguous_bare_name_lists_the_candidates() -> None:
    with pytest.raises(BadRequestError, match="several providers") as info:
        resolve_model("veo-3.0-generate-001", NONE)
    assert "'gemini/veo-3.0-generate-001'" in info.value.message
    assert "'vertex_ai/veo-3.0-generate-001'" in info.value.message
    assert info.value.param == "model"


def test_unknown_model_explains_how_to_name_models() -> None:
    with pytest.raises(BadRequestError, match="provider/model") as info:
        resolve_model("veo-3", NONE)
    assert info.value.param == "model"
    with pytest.raises(BadRequestError, match="Known gemini models"):
        resolve_model("gemini/veo-9", NONE)
    with pytest.raises(BadRequestError, match="Unknown provider 'acme'"):
        resolve_model("x", ClientConfig(custom_llm_provider="acme"))
    with pytest.raises(BadRequestError, match="Missing required parameter: 'model'"):
        resolve_model(None, NONE)


def test_custom_llm_provider_prefixes_a_bare_name() -> None:
    route = resolve_model("sora-2", ClientConfig(custom_llm_provider="azure"))
    assert (route.provider, route.model) == ("azure", "sora-2")


def test_unknown_bare_name_goes_to_a_configured_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    route = resolve_model("veo-3", ClientConfig(api_base="http://gw:4000"))
    assert (route.provider, route.model, route.spec, route.proxy) == ("openai", "veo-3", None, True)
    monkeypatch.setattr(vidgate, "api_base", "http://0.0.0.0:4000")
    assert resolve_model("veo-3", NONE).proxy


@pytest.mark.parametrize("model", ["sora-2", "local-1", "veo-3.0-generate-preview"])
def test_a_module_wide_gateway_gets_every_bare_name(model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``vidgate.api_base = gateway`` (the seeds' proxy idiom): the gateway's model names are its own, even
    when the catalogue knows the same name (else local-1 rendered here, veo-3.0-... 404'd at the gateway)."""
    monkeypatch.setattr(vidgate, "api_base", "http://0.0.0.0:4000")
    route = resolve_model(model, NONE)
    assert (route.provider, route.model, route.spec, route.proxy) == ("openai", model, None, True)
    # a provider prefix, or an api_base passed to the call (a provider's base URL), still goes direct
    assert not resolve_model(f"openai/{model}" if model == "sora-2" else "local/local-1", NONE).proxy
    assert not resolve_model(model, ClientConfig(api_base="http://emulator:8101/v1")).proxy


def test_proxy_base_adds_v1_only_to_a_bare_host() -> None:
    assert proxy_base("http://0.0.0.0:4000") == "http://0.0.0.0:4000/v1"
    assert proxy_base("http://0.0.0.0:4000/") == "http://0.0.0.0:4000/v1"
    assert proxy_base("https://gw.example/v1/") == "https://gw.example/v1"


def test_video_ids_resolve_without_a_model() -> None:
    vid = encode(
        VideoRef("gemini", "veo-3.1-generate-preview", "models/veo-3.1-generate-preview/operations/x")
    )
    route, ref = resolve_video(vid, None, NONE)
    assert (route.provider, route.model) == ("gemini", "veo-3.1-generate-preview")
    assert ref.native_id == "models/veo-3.1-generate-preview/operations/x"


def test_foreign_ids_use_the_model_argument_or_fail_clearly() -> None:
    route, ref = resolve_video("video_1234567890", "openai/sora-2", NONE)
    assert (route.provider, ref.native_id) == ("openai", "video_1234567890")
    with pytest.raises(NotFoundError, match="pass model=") as info:
        resolve_video("video_1234567890", None, NONE)
    assert info.value.param == "video_id"
    route, ref = resolve_video("video_from_gateway", None, ClientConfig(api_base="http://gw"))
    assert route.proxy
    assert ref.native_id == "video_from_gateway"


def test_missing_key_names_the_env_var_and_local_needs_none() -> None:
    with pytest.raises(AuthenticationError, match="OPENAI_API_KEY"):
        credentials(resolve_model("openai/sora-2", NONE), NONE)
    with pytest.raises(AuthenticationError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        credentials(resolve_model("gemini/veo-3.1-generate-preview", NONE), NONE)
    with pytest.raises(AuthenticationError, match="AZURE_OPENAI_API_KEY"):
        credentials(resolve_model("azure/sora-2", NONE), NONE)
    with pytest.raises(AuthenticationError, match="OPENAI_API_KEY"):
        credentials(
            resolve_model("veo-3", ClientConfig(api_base="http://gw")), ClientConfig(api_base="http://gw")
        )
    assert credentials(resolve_model("local/local-1", NONE), NONE).api_key is None


def test_key_precedence_argument_then_module_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    route = resolve_model("openai/sora-2", NONE)
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env/v1")
    assert credentials(route, NONE).api_key == "from-env"
    assert credentials(route, NONE).api_base == "http://env/v1"
    monkeypatch.setattr(vidgate, "api_key", "from-module")
    monkeypatch.setattr(vidgate, "api_base", "http://module/v1")
    assert credentials(route, NONE).api_key == "from-module"
    assert credentials(route, NONE).api_base == "http://module/v1"
    given = credentials(route, ClientConfig(api_key="from-arg", api_base="http://arg/v1"))
    assert (given.api_key, given.api_base) == ("from-arg", "http://arg/v1")


def test_default_bases_and_google_api_key_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    # No api_base anywhere: None, and the adapter uses the provider's public endpoint.
    assert credentials(resolve_model("sora-2", NONE), NONE).api_base is None
    assert OpenAIProvider.default_api_base == "https://api.openai.com/v1"
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    gemini = credentials(resolve_model("gemini/veo-3.1-generate-preview", NONE), NONE)
    assert (gemini.api_key, gemini.api_base) == ("g", None)
    assert GEMINI_DEFAULT_BASE == "https://generativelanguage.googleapis.com"
    monkeypatch.setenv("GEMINI_API_KEY", "first")
    monkeypatch.setenv("GEMINI_API_BASE", "http://emu")
    gemini = credentials(resolve_model("gemini/veo-3.1-generate-preview", NONE), NONE)
    assert (gemini.api_key, gemini.api_base) == ("first", "http://emu")


def test_azure_endpoint_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    route = resolve_model("azure/sora-2", NONE)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az")
    with pytest.raises(BadRequestError, match="AZURE_OPENAI_API_BASE") as info:
        credentials(route, NONE)
    assert info.value.param == "api_base"
    monkeypatch.setenv("AZURE_OPENAI_API_BASE", "https://res.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "preview")
    creds = credentials(route, NONE)
    assert (creds.api_key, creds.api_base, creds.api_version) == (
        "az",
        "https://res.openai.azure.com/",
        "preview",
    )
    assert credentials(route, ClientConfig(api_version="v1")).api_version == "v1"


def test_vertex_project_location_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    route = resolve_model("vertex_ai/veo-3.1-generate-001", NONE)
    with pytest.raises(BadRequestError, match="VERTEXAI_PROJECT") as info:
        credentials(route, NONE)
    assert info.value.param == "vertex_project"
    monkeypatch.setenv("VERTEXAI_PROJECT", "proj")
    creds = credentials(route, NONE)
    assert (creds.project, creds.location, creds.access_token) == ("proj", "us-central1", None)
    given = credentials(route, ClientConfig(vertex_location="europe-west4", vertex_access_token="tok"))
    assert (given.location, given.access_token) == ("europe-west4", "tok")


def test_client_extra_headers_reach_the_credentials() -> None:
    route = resolve_model("local/local-1", NONE)
    assert dict(credentials(route, ClientConfig(extra_headers={"X-Trace": "1"})).extra_headers) == {
        "X-Trace": "1"
    }
