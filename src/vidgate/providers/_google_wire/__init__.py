"""Wire code shared by the Google providers (gemini, vertex_ai): Veo flows, pass-through, emulator kit."""
