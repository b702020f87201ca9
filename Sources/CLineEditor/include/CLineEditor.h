// A line editor for `brise chat` on libedit: emacs key bindings, history in a file, a prompt with
// colour escapes, Ctrl-C that abandons the line (not the program), and pasted text kept as one entry.
#pragma once
#include <stddef.h>

typedef struct brise_line_editor brise_line_editor;

/// What `brise_line_editor_read` returned.
typedef enum {
    BRISE_LINE = 1,         ///< a line (without its newline) is in `*line`
    BRISE_END = 0,          ///< Ctrl-D on an empty line, or the input closed
    BRISE_INTERRUPTED = -1, ///< Ctrl-C: the line was abandoned
    BRISE_FAILED = -2,      ///< the terminal could not be read
} brise_line_status;

/// The character a newline inside pasted text becomes while the line is edited (U+21B5 ↵); the
/// caller turns it back into a newline.
#define BRISE_PASTED_NEWLINE 0x21B5

/// Opens an editor on stdin/stdout. `history_path` may be NULL (no file); `history_size` entries are
/// kept. Returns NULL if libedit cannot start (not a terminal).
brise_line_editor *brise_line_editor_open(const char *program, const char *history_path, int history_size);

/// Reads one line with `prompt` (colour escapes between \001 marks do not count as width). While it
/// reads, SIGINT abandons the line instead of ending the program. The line stays valid until the next
/// call.
brise_line_status brise_line_editor_read(brise_line_editor *editor, const char *prompt, const char **line, size_t *length);

/// Adds a line to the history and, with a history file, saves it. Returns 0, or -1 if the file could
/// not be written.
int brise_line_editor_remember(brise_line_editor *editor, const char *line);

/// Restores the terminal and frees the editor.
void brise_line_editor_close(brise_line_editor *editor);
