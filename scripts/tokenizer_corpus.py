"""The tokenizer test corpus: at least 2,000 strings, generated deterministically.

Imported by scripts/make-tokenizer-fixtures.py and scripts/make-llamacpp-token-fixtures.py, which
record reference ids for it (mistral-common, llama.cpp). The corpus itself is committed as
Fixtures/tokenization/corpus.json so the Swift tests and the reference ids always agree on the texts.

Categories: plain and accented text in several scripts, CJK, emoji, code, numbers, whitespace runs,
control characters and invalid-looking input (control-token look-alikes, byte-token look-alikes,
stray combining marks, replacement characters), then random mixtures of all of them.
"""

import random

SEED = 20240718

ENGLISH = (
    "the quick brown fox jumps over lazy dog and then runs back home to sleep under a warm blanket "
    "while rain falls softly on the old roof of an empty house near river bank where children play "
    "Hello World Mistral Brise tokenizer model weights memory budget thermal governor socket daemon "
    "I'm you're they've we'll she'd it's don't can't won't isn't HTTP JSON API URL CPU GPU"
).split()

SCRIPTS = {
    "french": "Français déjà vu où était l'été à côté ça garçon œuvre naïve Noël élève hôpital crème brûlée",
    "german": "Straße Größe Übermäßig schön Mädchen Fußgänger Äpfel Öl Zürich heißen Ärger ÜBER",
    "spanish": "¿Qué tal? ¡Hola! mañana niño canción corazón pingüino año España acción",
    "polish": "Zażółć gęślą jaźń Łódź Kraków świętość źdźbło Gdańsk",
    "vietnamese": "Tiếng Việt có dấu người Hà Nội phở bò Xin chào thế giới",
    "turkish": "İstanbul ılık şarkı çiçek ğ Iğdır DİYARBAKIR",
    "russian": "Привет мир как дела Москва ЁЛКА съешь же ещё этих мягких французских булок",
    "greek": "Γειά σου κόσμε Αθήνα ΣΟΦΙΑ ὁ λόγος ἐν ἀρχῇ",
    "arabic": "مرحبا بالعالم اللغة العربية جميلة ١٢٣ كتاب",
    "hebrew": "שלום עולם עברית ספר",
    "hindi": "नमस्ते दुनिया हिन्दी भाषा क्षत्रिय द्वार",
    "thai": "สวัสดีชาวโลก ภาษาไทย กรุงเทพมหานคร",
    "korean": "안녕하세요 세계 한국어 서울특별시 ㄱㄴㄷ",
    "japanese": "こんにちは世界 カタカナ ひらがな 東京都 日本語の文章です。ｶﾀｶﾅ",
    "chinese": "你好世界 中文 汉字 北京市 繁體中文 這是一個測試。",
    "armenian": "Բարեւ աշխարհ",
    "georgian": "გამარჯობა მსოფლიო",
    "tamil": "வணக்கம் உலகம்",
    "amharic": "ሰላም ዓለም",
    "math": "∀x∈ℝ: x²≥0 ∑ᵢ aᵢ ≠ ∞ √2 ≈ 1.414 𝔸𝕓𝕔 ℏω ½ ⅓ Ⅻ ①②",
    "titlecase": "ǅemal ǈubljana ǋ ʰʲ ˢᵘᵖ ᵃᵇ ǂ ƻ ʔ",
}

EMOJI = [
    "😀", "😂", "🥲", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "✨", "🔥", "🤖", "🧪",
    "☕", "⭐", "🚀", "👩🏿‍💻", "🫠", "1️⃣", "©", "®", "™",
]

CODE = [
    "def f(x):\n    return x**2",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "if let value = dict[\"key\"] { print(value) }",
    '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "#!/usr/bin/env bash\nset -euo pipefail\necho \"$HOME\" | grep -v '^#'",
    "const add = (a, b) => a + b; // arrow function",
    "<div class=\"main\"><p>Hello</p></div>",
    "x = [i*i for i in range(10) if i % 2 == 0]",
    "fn main() { println!(\"{}\", 42); }",
    "a+=1;b-=2;c*=3;d/=4;e%=5;f**=6;g//=7",
    "path/to/file.txt C:\\Windows\\System32 ~/.cache/brise",
    "https://example.com/a/b?c=d&e=f#g",
    "    indented\n        more\n\t\ttabs",
    "/* comment */ // line\n# hash\n-- sql",
]

WHITESPACE = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r", " \n", "\n ",
              " \t ", "\u00a0", "\u3000", "\u2009", "\u2028", "\u0085", "\x0b", "\x0c"]

CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x1b", "\x1f", "\x7f", "\u200b", "\u200c", "\u200d", "\ufeff",
           "\u2060", "\u00ad", "\u202e", "\u061c"]

LOOKALIKES = [
    "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]",
    "[TOOL_RESULTS]", "[ARGS]", "[CALL_ID]", "[THINK]", "<s>", "</s>", "<unk>", "<pad>", "<0x0A>", "<0x00>",
    "<0xFF>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<start_of_turn>", "<end_of_turn>", "<bos>",
    "<eos>", "<tool_call>", "</tool_call>", "<SPECIAL_20>", "▁", "▁▁", "Ġ", "Ċ", "\ufffd", "\ufffd\ufffd",
    "\u0301", "\u0301\u0301e", "e\u0301", "\\x00", "\\n", "\\u0000", "%s %d %%", "&amp;&lt;&gt;", "ÿþ", "Ã©",
]

NUMBERS_FMT = ["{}", "{:,}", "{:.2f}", "{:e}", "+{}", "-{}", "0x{:x}", "{}%", "${}", "{}€"]


def _words(rng, pool, k):
    return [rng.choice(pool) for _ in range(k)]


def _number(rng):
    n = rng.choice([rng.randint(0, 9), rng.randint(10, 999), rng.randint(1000, 10**7), rng.randint(10**8, 10**15)])
    fmt = rng.choice(NUMBERS_FMT)
    if "f" in fmt or "e" in fmt:
        return fmt.format(n / rng.choice([1, 3, 7, 1000]))
    return fmt.format(n)


def _plain(rng):
    words = _words(rng, ENGLISH, rng.randint(1, 14))
    if rng.random() < 0.3:
        words[0] = words[0].capitalize()
    text = " ".join(words)
    if rng.random() < 0.5:
        text += rng.choice([".", "!", "?", ",", ":", "...", " ;", "?!"])
    if rng.random() < 0.2:
        text = text.upper()
    return text


def _script(rng):
    name = rng.choice(sorted(SCRIPTS))
    words = SCRIPTS[name].split()
    return " ".join(_words(rng, words, rng.randint(1, 8)))


def _emoji(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append(rng.choice(EMOJI + [rng.choice(ENGLISH), " ", ""]))
    return "".join(parts) if rng.random() < 0.5 else " ".join(parts)


def _code(rng):
    text = rng.choice(CODE)
    if rng.random() < 0.3:
        text = text + "\n" + rng.choice(CODE)
    return text


def _numbers(rng):
    return rng.choice([" ", ", ", "\n", "", "-", "/", ":"]).join(_number(rng) for _ in range(rng.randint(1, 6)))


def _whitespace(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append(rng.choice(WHITESPACE) * rng.randint(1, 5))
        if rng.random() < 0.6:
            parts.append(rng.choice(ENGLISH))
    return "".join(parts)


def _control(rng):
    parts = []
    for _ in range(rng.randint(1, 6)):
        parts.append(rng.choice(CONTROL + [rng.choice(ENGLISH)]))
    return "".join(parts)


def _lookalike(rng):
    parts = []
    for _ in range(rng.randint(1, 5)):
        parts.append(rng.choice(LOOKALIKES + [rng.choice(ENGLISH), " ", "\n"]))
    return "".join(parts)


def _mixture(rng):
    pools = [
        lambda: rng.choice(ENGLISH),
        lambda: rng.choice(SCRIPTS[rng.choice(sorted(SCRIPTS))].split()),
        lambda: rng.choice(EMOJI),
        lambda: _number(rng),
        lambda: rng.choice(WHITESPACE),
        lambda: rng.choice(CONTROL),
        lambda: rng.choice(LOOKALIKES),
        lambda: rng.choice("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
        lambda: chr(rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x24F), rng.randint(0x370, 0x3FF),
                                rng.randint(0x400, 0x4FF), rng.randint(0x4E00, 0x9FFF), rng.randint(0xAC00, 0xD7A3),
                                rng.randint(0x3040, 0x30FF), rng.randint(0x1F600, 0x1F64F), rng.randint(0x2000, 0x206F)])),
    ]
    parts = [rng.choice(pools)() for _ in range(rng.randint(1, 12))]
    sep = rng.choice(["", " ", "", "\n"])
    return sep.join(parts)


GENERATORS = [
    ("plain", _plain, 300),
    ("scripts", _script, 400),
    ("emoji", _emoji, 150),
    ("code", _code, 150),
    ("numbers", _numbers, 200),
    ("whitespace", _whitespace, 200),
    ("control", _control, 100),
    ("lookalike", _lookalike, 150),
    ("mixture", _mixture, 450),
]

FIXED = [
    "", " ", "  ", "\n", "Hello", " Hello", "Hello ", "Hello, how are you?", " Hello world",
    "I'm 12345 years old.\n\nNew   line\ttab", "Français: déjà vu 😀 中文", "def f(x):\n    return x**2",
    "[INST] Hello [/INST]", "<s>[INST]", "a\u0301", "\u00e9", "A" * 300, " " * 40, "\n" * 40, "\t" * 33,
    "ab" * 200, "😀" * 50, "1234567890" * 10, "Ǆ ǅ ǆ", "\u0301abc", "ÅÅ", "ﬁﬂ", "\r\n\r\n", "x\x00y",
]

for _scripts_name in sorted(SCRIPTS):
    FIXED.append(SCRIPTS[_scripts_name])
FIXED.extend(CODE)
FIXED.extend(LOOKALIKES)


def corpus():
    """Returns the list of (category, text) pairs, always the same."""
    rng = random.Random(SEED)
    items = [("fixed", text) for text in FIXED]
    seen = set(text for _, text in items)
    for name, generate, count in GENERATORS:
        made = 0
        attempts = 0
        while made < count and attempts < count * 20:
            attempts += 1
            text = generate(rng)
            if text in seen:
                continue
            seen.add(text)
            items.append((name, text))
            made += 1
    return items
