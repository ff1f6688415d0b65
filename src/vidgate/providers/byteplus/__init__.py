"""Seedance on BytePlus ModelArk (``ark.ap-southeast.bytepluses.com``): the Ark task API, ``dreamina-*`` ids,
token-priced in USD."""

from vidgate.providers.byteplus.adapter import BytePlusProvider
from vidgate.providers.byteplus.config import BytePlusConfig
from vidgate.providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="byteplus",
    package=__name__,
    adapter=BytePlusProvider,
    config=BytePlusConfig,
    aliases=("byteplus_modelark", "modelark"),
    emulator="vidgate.providers.byteplus.emulator:create_app",
    emulator_port=8106,
    emulator_env=("BYTEPLUS_API_BASE={url}/api/v3", "ARK_API_KEY={key}"),
    description="Seedance on BytePlus ModelArk (international)",
)
