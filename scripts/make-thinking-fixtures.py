#!/usr/bin/env python3
"""Writes Fixtures/tokenization/thinking.json: conversations with thinking ([THINK]…[/THINK]) encoded
by mistral-common's own pipeline (MistralTokenizer.encode_chat_completion: the v13 validator, the
normalizer, InstructTokenizerV13), on the synthetic v13 Tekken vocabulary the other chat references
use (tekken_240718 with ids 20-23 renamed [ARGS], [CALL_ID], [THINK], [/THINK]; see
scripts/make-tokenizer-fixtures.py).

The cases are every thinking case of mistral-common's tests/test_tokenizer_v13.py (the end-to-end
conversation, the assistant messages of test_tokenize_assistant_message, the system messages of
test_encode_system_message, the think chunk of test_encode_think_chunk), each placed in a conversation,
plus our own (several turns with thinking, thinking with tool calls, unicode, an open think in a
prefix message, what the normalizer does to adjacent text chunks and trailing spaces).

Each case stores the messages in a small JSON form the Swift test reads back:
  {"role": …, "content": "text" | [{"type": "text", "text": …} | {"type": "thinking", "thinking": …,
   "closed": bool}], "tool_calls": [{"name", "arguments" (JSON text), "id"}], "tool_call_id": …,
   "prefix": bool}
and the reference ids and text (control tokens kept). Cases mistral-common refuses are stored with
"error" instead of ids.

Run with the venv's python (mistral-common 1.13.1).
"""
import json
import sys
from pathlib import Path

import mistral_common
from mistral_common.protocol.instruct.chunk import TextChunk, ThinkChunk
from mistral_common.protocol.instruct.messages import AssistantMessage, SystemMessage, ToolMessage, UserMessage
from mistral_common.protocol.instruct.normalize import InstructRequestNormalizerV13
from mistral_common.protocol.instruct.request import ChatCompletionRequest
from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, Tool, ToolCall
from mistral_common.protocol.instruct.validator import MistralRequestValidatorV13, ValidationMode
from mistral_common.tokens.tokenizers.base import SpecialTokenPolicy, TokenizerVersion
from mistral_common.tokens.tokenizers.instruct import InstructTokenizerV13
from mistral_common.tokens.tokenizers.mistral import MistralTokenizer
from mistral_common.tokens.tokenizers.tekken import SpecialTokenInfo, Tekkenizer

REPO = Path(__file__).resolve().parent.parent
SYNTHETIC_V13 = {20: "[ARGS]", 21: "[CALL_ID]", 22: "[THINK]", 23: "[/THINK]"}


def synthetic_v13(mode: ValidationMode) -> MistralTokenizer:
    data = Path(mistral_common.__file__).resolve().parent / "data"
    base = Tekkenizer.from_file(data / "tekken_240718.json")
    model = json.loads((data / "tekken_240718.json").read_text())
    specials = []
    for rank in range(base.num_special_tokens):
        text = SYNTHETIC_V13.get(rank) or base.id_to_piece(rank)
        specials.append(SpecialTokenInfo(rank=rank, token_str=text, is_control=True))
    vocab = model["vocab"]
    config = model["config"]
    tekken = Tekkenizer(
        vocab,
        special_tokens=specials,
        pattern=config["pattern"],
        vocab_size=config["default_vocab_size"],
        num_special_tokens=config["default_num_special_tokens"],
        version=TokenizerVersion.v13,
    )
    return MistralTokenizer(
        InstructTokenizerV13(tekken),
        validator=MistralRequestValidatorV13(mode=mode),
        request_normalizer=InstructRequestNormalizerV13.normalizer(),
    )


MATH_TOOL = Tool(
    function=Function(
        name="math_interpreter",
        description="Get the value of an arithmetic expression.",
        parameters={
            "type": "object",
            "properties": {"expression": {"type": "string", "description": "Math expression."}},
        },
    )
)


def think(text, closed=True):
    return ThinkChunk(thinking=text, closed=closed)


def text(t):
    return TextChunk(text=t)


def call(name, arguments, id="123456789"):
    return ToolCall(id=id, function=FunctionCall(name=name, arguments=arguments))


# (name, messages, tools, mode) — mode "finetuning" lets a conversation end with an assistant turn.
CASES = [
    # --- mistral-common tests/test_tokenizer_v13.py: test_end_to_end_v13 (EXPECTED_TEXT_V13)
    ("mc/end_to_end_v13", [
        SystemMessage(content=[text("S1"), think("TS"), text("S2")]),
        UserMessage(content="U1"),
        AssistantMessage(content="A1", tool_calls=[call("F1", "{}", "123456789"), call("F2", "{}", "999999999")]),
        ToolMessage(content="R1", tool_call_id="123456789"),
        ToolMessage(content="R2", tool_call_id="999999999"),
        AssistantMessage(content=[think("T1"), text("A2")]),
        UserMessage(content="U2"),
    ], [MATH_TOOL], "test"),
    # --- test_tokenize_assistant_message (each message after a user turn, then a user turn)
    ("mc/assistant_text", [UserMessage(content="U"), AssistantMessage(content="A1"), UserMessage(content="U2")], [], "test"),
    ("mc/assistant_text_chunk", [UserMessage(content="U"), AssistantMessage(content=[text("A1")]), UserMessage(content="U2")], [], "test"),
    ("mc/assistant_think_text", [
        UserMessage(content="U"), AssistantMessage(content=[think("T1"), text("A1")]), UserMessage(content="U2"),
    ], [], "test"),
    ("mc/assistant_open_think_text_calls", [
        UserMessage(content="U"),
        AssistantMessage(content=[think("R1", closed=False), text("A1")], tool_calls=[call("F1", "{'a': 1}")]),
        ToolMessage(content="R", tool_call_id="123456789"),
        UserMessage(content="U2"),
    ], [], "test"),
    ("mc/assistant_prefix_text", [UserMessage(content="U"), AssistantMessage(content="A1", prefix=True)], [], "test"),
    # --- test_encode_system_message
    ("mc/system_text", [SystemMessage(content="S1"), UserMessage(content="U")], [], "test"),
    ("mc/system_text_think_text", [SystemMessage(content=[text("S1"), think("TS"), text("S2")]), UserMessage(content="U")], [], "test"),
    ("mc/system_two_texts_two_thinks", [
        SystemMessage(content=[text("S1"), text("S3"), think("TS"), think("TS"), text("S2")]), UserMessage(content="U"),
    ], [], "test"),
    ("mc/system_open_think", [SystemMessage(content=[text("S1"), text("S3"), think("TS", closed=False)]), UserMessage(content="U")], [], "test"),
    # --- test_encode_think_chunk: a closed and an open think (as an assistant prefix, where an open one belongs)
    ("mc/think_chunk_closed", [UserMessage(content="U"), AssistantMessage(content=[think("T1")], prefix=True)], [], "test"),
    ("mc/think_chunk_open", [UserMessage(content="U"), AssistantMessage(content=[think("T1", closed=False)], prefix=True)], [], "test"),
    # --- our own
    ("own/magistral_system_prompt", [
        SystemMessage(content=[
            text("First draft your thinking process (inner monologue) until you arrive at a response. "
                 "Format your response using Markdown.\n\nYour thinking process must follow the template below:"),
            think("Your thoughts or/and draft, like working through an exercise on scratch paper."),
            text("Here, provide a self-contained response."),
        ]),
        UserMessage(content="What is 2+2?"),
    ], [], "test"),
    ("own/two_turns_with_thinking", [
        SystemMessage(content="You are helpful."),
        UserMessage(content="What is 2+2?"),
        AssistantMessage(content=[think("2+2 is 4. Simple arithmetic.\n"), text("It is 4.")]),
        UserMessage(content="And 3*3?"),
        AssistantMessage(content=[think("3*3 = 9"), text("Nine.  ")]),
        UserMessage(content="Thanks!"),
    ], [], "test"),
    ("own/thinking_then_tool_call", [
        UserMessage(content="What is 12*7?"),
        AssistantMessage(content=[think("I should use the calculator.")],
                         tool_calls=[call("math_interpreter", '{"expression": "12*7"}', "abcDEF123")]),
        ToolMessage(content="84", tool_call_id="abcDEF123"),
        AssistantMessage(content=[think("The tool says 84."), text("12*7 = 84.")]),
        UserMessage(content="Good."),
    ], [MATH_TOOL], "test"),
    ("own/unicode_thinking", [
        UserMessage(content="Résumé?"),
        AssistantMessage(content=[think("Naïve café — 東京 🚀 [THINK] is plain text here"), text("Voilà ✓")]),
        UserMessage(content="Merci"),
    ], [], "test"),
    ("own/trailing_spaces_kept_after_thinking", [
        UserMessage(content="U"),
        AssistantMessage(content=[think("T  "), text("A with spaces   ")]),
        UserMessage(content="U2"),
    ], [], "test"),
    ("own/two_assistant_text_chunks", [
        UserMessage(content="U"),
        AssistantMessage(content=[think("T"), text("A1"), text("A2")]),
        UserMessage(content="U2"),
    ], [], "test"),
    ("own/empty_thinking", [
        UserMessage(content="U"),
        AssistantMessage(content=[think(""), text("A")]),
        UserMessage(content="U2"),
    ], [], "test"),
    ("own/prefix_open_thinking_continues", [
        SystemMessage(content="Think first."),
        UserMessage(content="Why is the sky blue?"),
        AssistantMessage(content=[think("Rayleigh scattering", closed=False)], prefix=True),
    ], [], "test"),
    ("own/prefix_closed_thinking_then_text", [
        UserMessage(content="Hi"),
        AssistantMessage(content=[think("Greet back."), text("Hel")], prefix=True),
    ], [], "test"),
]


def dump_message(message) -> dict:
    out: dict = {"role": message.role.value if hasattr(message.role, "value") else message.role}
    content = message.content
    if isinstance(content, str) or content is None:
        out["content"] = content or ""
    else:
        chunks = []
        for chunk in content:
            if isinstance(chunk, ThinkChunk):
                chunks.append({"type": "thinking", "thinking": chunk.thinking, "closed": chunk.closed})
            else:
                chunks.append({"type": "text", "text": chunk.text})
        out["content"] = chunks
    if getattr(message, "tool_calls", None):
        out["tool_calls"] = [{"name": c.function.name, "arguments": c.function.arguments, "id": c.id} for c in message.tool_calls]
    if getattr(message, "tool_call_id", None):
        out["tool_call_id"] = message.tool_call_id
    if getattr(message, "prefix", False):
        out["prefix"] = True
    return out


def main() -> int:
    tokenizers = {mode: synthetic_v13(ValidationMode[mode]) for mode in ("test", "finetuning")}
    out = []
    for name, messages, tools, mode in CASES:
        tokenizer = tokenizers[mode]
        case = {
            "name": name,
            "messages": [dump_message(m) for m in messages],
            "tools": [{"name": t.function.name, "description": t.function.description, "parameters": t.function.parameters} for t in tools],
        }
        try:
            tokenized = tokenizer.encode_chat_completion(ChatCompletionRequest(messages=messages, tools=tools or None))
            case["ids"] = tokenized.tokens
            case["text"] = tokenizer.instruct_tokenizer.decode(tokenized.tokens, special_token_policy=SpecialTokenPolicy.KEEP)
        except Exception as error:  # noqa: BLE001 - the refusal is part of the reference
            case["error"] = f"{type(error).__name__}: {error}"
        out.append(case)
        print(name, case.get("text", case.get("error"))[:160].replace("\n", "\\n"))
    path = REPO / "Fixtures" / "tokenization" / "thinking.json"
    path.write_text(json.dumps(out, ensure_ascii=True, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
