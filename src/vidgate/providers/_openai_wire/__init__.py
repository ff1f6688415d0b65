"""Wire code shared by the OpenAI-shaped providers (openai, azure): flows and the emulator app."""
