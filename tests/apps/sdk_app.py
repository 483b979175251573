"""A plain agent application on the official model SDKs, with no telemetry code of its own: run under
``ccmon-instrument`` by tests/e2e/test_agent_apps.py. The clients read their endpoints and keys from
the environment (``ANTHROPIC_BASE_URL``, ``OPENAI_BASE_URL``), as any app's would."""

from __future__ import annotations

import anthropic
import openai

PROMPT = "SECRET-PROMPT-7731 plan the release"


def main() -> None:
    claude = anthropic.Anthropic(max_retries=0)
    for _ in range(2):
        claude.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": PROMPT}])
    for _ in range(2):
        with claude.messages.stream(
            model="claude-haiku-4-5", max_tokens=64, messages=[{"role": "user", "content": PROMPT}]
        ) as stream:
            stream.get_final_text()
    gpt = openai.OpenAI(max_retries=0)
    gpt.responses.create(model="gpt-5-mini", input=PROMPT)
    print("done")


if __name__ == "__main__":
    main()
