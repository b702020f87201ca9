#!/usr/bin/env python3
"""The official openai and mistralai SDKs (PyPI) against brised's HTTP socket, over a Unix-socket
transport. Prints one JSON object with what each call returned (or the SDK's error class)."""
import json
import sys

import httpx
import openai

try:  # newer openai releases ship their own httpx fork
    import httpx2 as openai_httpx
except ImportError:
    openai_httpx = httpx
from mistralai.client import Mistral

socket = sys.argv[1]
out = {}

client = openai.OpenAI(
    api_key="unused", base_url="http://brised/v1", max_retries=0,
    http_client=openai_httpx.Client(transport=openai_httpx.HTTPTransport(uds=socket)))
question = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]

chat = client.chat.completions.create(model="any", messages=question, temperature=0, max_tokens=16)
out["chat"] = {"text": chat.choices[0].message.content, "finish": chat.choices[0].finish_reason,
               "prompt_tokens": chat.usage.prompt_tokens, "completion_tokens": chat.usage.completion_tokens}

pieces, usage = [], None
for chunk in client.chat.completions.create(model="any", messages=question, temperature=0, max_tokens=16,
                                            stream=True, stream_options={"include_usage": True}):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage.completion_tokens
out["chat_stream"] = {"pieces": pieces, "text": "".join(pieces), "usage": usage}

completion = client.completions.create(model="any", prompt="def add(a, b):\n    return", temperature=0, max_tokens=8)
out["completion"] = {"text": completion.choices[0].text, "finish": completion.choices[0].finish_reason}

out["models"] = [m.id for m in client.models.list().data]

# Forced tool calls: a named function through openai, "any" through mistralai (below).
tools = [
    {"type": "function", "function": {"name": "get_weather", "description": "The current weather in a city.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40},
                    "unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["city", "unit"], "additionalProperties": False}}},
    {"type": "function", "function": {"name": "send_email", "description": "Sends an email.",
     "parameters": {"type": "object", "properties": {"to": {"type": "string", "format": "email"},
                    "subject": {"type": "string", "maxLength": 60}}, "required": ["to", "subject"], "additionalProperties": False}}},
]
out["tools"] = tools
forced = client.chat.completions.create(
    model="any", messages=[{"role": "user", "content": "Tell Ana (ana@example.com) that lunch is at noon."}], tools=tools,
    tool_choice={"type": "function", "function": {"name": "send_email"}}, temperature=0, max_tokens=120)
out["forced"] = {"finish": forced.choices[0].finish_reason,
                 "calls": [{"name": c.function.name, "arguments": c.function.arguments} for c in forced.choices[0].message.tool_calls or []]}
required = client.chat.completions.create(
    model="any", messages=[{"role": "user", "content": "Is it raining in Lyon? Use celsius."}], tools=tools,
    tool_choice="required", temperature=0, max_tokens=120)
out["required"] = {"finish": required.choices[0].finish_reason,
                   "calls": [{"name": c.function.name, "arguments": c.function.arguments} for c in required.choices[0].message.tool_calls or []]}

# json_schema output.
city_schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 30},
               "population": {"type": "integer", "minimum": 0}}, "required": ["city", "population"], "additionalProperties": False}
out["city_schema"] = city_schema
structured = client.chat.completions.create(
    model="any", messages=[{"role": "user", "content": "The largest city of Norway and its population, as JSON."}],
    response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": city_schema, "strict": True}},
    temperature=0, max_tokens=60)
out["structured"] = {"text": structured.choices[0].message.content, "finish": structured.choices[0].finish_reason}

errors = {}
for name, kwargs in {
    "top_p": dict(messages=question, top_p=7),
    "n": dict(messages=question, n=2),
    "messages": dict(messages="hello"),
    "unknown": dict(messages=question, extra_body={"frobnicate": 1}),
    "overflow": dict(messages=question, max_tokens=100000),
    "tool_choice": dict(messages=question, tools=tools, tool_choice={"type": "function", "function": {"name": "nowhere"}}),
}.items():
    try:
        client.chat.completions.create(model="any", **kwargs)
        errors[name] = "no error"
    except openai.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        errors[name] = {"class": type(error).__name__, "status": error.status_code, "param": body.get("param")}
out["errors"] = errors

mistral = Mistral(api_key="unused", server_url="http://brised", client=httpx.Client(transport=httpx.HTTPTransport(uds=socket)))
fim = mistral.fim.complete(model="codestral-latest", prompt="def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        ",
                           suffix="\n    return a\n", temperature=0, max_tokens=32)
out["fim"] = {"text": fim.choices[0].message.content, "finish": fim.choices[0].finish_reason}
mchat = mistral.chat.complete(model="any", messages=question, temperature=0, max_tokens=16, random_seed=7)
out["mistral_chat"] = mchat.choices[0].message.content
many = mistral.chat.complete(model="any", messages=[{"role": "user", "content": "What is the weather in Oslo, in celsius?"}],
                             tools=tools, tool_choice="any", temperature=0, max_tokens=120)
out["mistral_any"] = {"finish": many.choices[0].finish_reason,
                      "calls": [{"name": c.function.name, "arguments": c.function.arguments} for c in many.choices[0].message.tool_calls or []]}

print(json.dumps(out))
