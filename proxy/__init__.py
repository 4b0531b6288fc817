"""Kiro Proxy: Anthropic, OpenAI and Gemini APIs served from a pool of Kiro accounts."""
