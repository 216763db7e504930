"""Voice channel: telephony audio, speech recognition (ASR) and text to speech (TTS)."""
