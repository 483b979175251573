"""An application on the Claude Agent SDK (it runs the Claude Code CLI), attributed with
``otel_ccmon.agents.claude_agent_env``: run by tests/e2e/test_claude_agent_sdk.py. Argument: the
collector's OTLP endpoint; the CLI binary and the model API come from the environment."""

from __future__ import annotations

import asyncio
import os
import sys

from claude_agent_sdk import ClaudeAgentOptions, ResultMessage, query

from otel_ccmon.agents import claude_agent_env


async def main(endpoint: str) -> None:
    env = claude_agent_env("release-bot", endpoint, team="platform")
    env["OTEL_METRIC_EXPORT_INTERVAL"] = "1000"  # a short session: export before it ends
    env["OTEL_LOGS_EXPORT_INTERVAL"] = "1000"
    options = ClaudeAgentOptions(env=env, cli_path=os.environ["CCMON_CLAUDE_CLI"], model="claude-haiku-4-5")
    async for message in query(prompt="[[plain]] summarise the release notes", options=options):
        if isinstance(message, ResultMessage):
            print("result", message.subtype, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
