// See include/CLineEditor.h. libedit does the editing; this file gives it a character reader that
// turns SIGINT into "abandon the line" and keeps pasted lines together, and drives its history.
#include "CLineEditor.h"

#include <errno.h>
#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

struct brise_line_editor {
    EditLine *el;
    History *history;
    char *history_path;
    const char *prompt;
    int fd;
    int interrupted;       // the read ended on SIGINT
    sig_atomic_t interrupts_seen;  // the handler's count when this read started
    int pasted_return;     // the last character was a pasted \r (a \n right after it is the same newline)
    int typed_ahead;       // bytes queued before this read put the terminal in raw mode
};

// Counted by the SIGINT handler while a line is read. A signal handler can only reach process state,
// so this one counter is file-wide; the reader compares it with the count it last saw.
static volatile sig_atomic_t interrupts;

static void on_interrupt(int signal_number) {
    (void)signal_number;
    interrupts = interrupts + 1;
}

static char *current_prompt(EditLine *el) {
    brise_line_editor *editor = NULL;
    el_get(el, EL_CLIENTDATA, &editor);
    return (char *)(editor && editor->prompt ? editor->prompt : "");
}

static int input_pending(int fd) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

// libedit's own reader retries a read(2) that SIGINT interrupted; this one ends the line instead.
// It decodes UTF-8 (the locale's multibyte encoding) and marks a newline followed at once by more input
// (a paste: no one types Enter and the next key within one read) as BRISE_PASTED_NEWLINE.
static int read_character(EditLine *el, wchar_t *out) {
    brise_line_editor *editor = NULL;
    el_get(el, EL_CLIENTDATA, &editor);
    char bytes[MB_LEN_MAX];
    size_t count = 0;
    for (;;) {
        // SIGINT may be taken by any thread (not necessarily this one, blocked in read(2)), so the
        // reader waits in short polls and looks at the handler's count between them.
        int ready = 0;
        while (!ready) {
            if (interrupts != editor->interrupts_seen) {
                editor->interrupts_seen = interrupts;
                editor->interrupted = 1;
                *out = 0;
                return -1;
            }
            struct pollfd p = {.fd = editor->fd, .events = POLLIN};
            int n = poll(&p, 1, 50);
            if (n < 0 && errno != EINTR) {
                *out = 0;
                return -1;
            }
            ready = n > 0;
        }
        ssize_t n = read(editor->fd, bytes + count, 1);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            *out = 0;
            return -1;
        }
        if (n == 0) {
            *out = 0;
            return 0;
        }
        if (editor->typed_ahead > 0) {
            editor->typed_ahead -= 1;
            // Typed while the terminal was still line-buffered (during an answer): there the line
            // discipline turned Ctrl-D into a NUL end-of-file mark, which raw mode hands over as is.
            if (bytes[count] == 0) bytes[count] = 4;
        }
        count += 1;
        mbstate_t state;
        memset(&state, 0, sizeof state);
        size_t used = mbrtowc(out, bytes, count, &state);
        if (used == (size_t)-2 && count < sizeof bytes) continue;
        if (used == (size_t)-1 || used == (size_t)-2) *out = 0xFFFD;
        if (*out == L'\n' && editor->pasted_return) {
            // \r\n from a paste: the \r already stood for this newline.
            editor->pasted_return = 0;
            count = 0;
            continue;
        }
        editor->pasted_return = 0;
        if ((*out == L'\r' || *out == L'\n') && input_pending(editor->fd)) {
            editor->pasted_return = *out == L'\r';
            *out = BRISE_PASTED_NEWLINE;
        }
        return 1;
    }
}

brise_line_editor *brise_line_editor_open(const char *program, const char *history_path, int history_size) {
    if (!isatty(STDIN_FILENO)) return NULL;
    // libedit edits wide characters in the locale's encoding; brise speaks UTF-8.
    if (!setlocale(LC_CTYPE, "") || strcmp(nl_langinfo(CODESET), "UTF-8") != 0) setlocale(LC_CTYPE, "C.UTF-8");
    brise_line_editor *editor = calloc(1, sizeof *editor);
    if (!editor) return NULL;
    editor->fd = STDIN_FILENO;
    editor->el = el_init(program, stdin, stdout, stderr);
    editor->history = history_init();
    if (!editor->el || !editor->history) {
        brise_line_editor_close(editor);
        return NULL;
    }
    HistEvent event;
    history(editor->history, &event, H_SETSIZE, history_size > 0 ? history_size : 1);
    history(editor->history, &event, H_SETUNIQUE, 1);
    if (history_path) {
        editor->history_path = strdup(history_path);
        history(editor->history, &event, H_LOAD, history_path);  // a missing file is an empty history
    }
    el_set(editor->el, EL_CLIENTDATA, editor);
    el_set(editor->el, EL_EDITOR, "emacs");
    el_set(editor->el, EL_SIGNAL, 0);
    el_set(editor->el, EL_PROMPT_ESC, current_prompt, '\1');
    el_set(editor->el, EL_HIST, history, editor->history);
    el_set(editor->el, EL_GETCFN, read_character);
    el_source(editor->el, NULL);  // the user's ~/.editrc, if any
    return editor;
}

brise_line_status brise_line_editor_read(brise_line_editor *editor, const char *prompt, const char **line, size_t *length) {
    editor->prompt = prompt;
    editor->interrupted = 0;
    editor->pasted_return = 0;
    editor->interrupts_seen = interrupts;
    struct sigaction quiet, previous;
    memset(&quiet, 0, sizeof quiet);
    quiet.sa_handler = on_interrupt;
    sigemptyset(&quiet.sa_mask);
    quiet.sa_flags = SA_RESTART;
    sigaction(SIGINT, &quiet, &previous);
    // Raw mode before the prompt is drawn: libedit draws it first and changes modes at its first read,
    // so a key pressed as soon as the prompt shows would still meet the line-buffered terminal (a
    // Ctrl-D there is lost, and the chat would wait for ever).
    el_set(editor->el, EL_PREP_TERM, 1);
    int queued = 0;
    editor->typed_ahead = ioctl(editor->fd, FIONREAD, &queued) == 0 && queued > 0 ? queued : 0;
    int count = 0;
    const char *text = el_gets(editor->el, &count);
    int interrupted = editor->interrupted;
    sigaction(SIGINT, &previous, NULL);
    if (interrupted) {
        el_reset(editor->el);
        return BRISE_INTERRUPTED;
    }
    if (!text || count <= 0) return count < 0 ? BRISE_FAILED : BRISE_END;
    size_t n = (size_t)count;
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) n -= 1;
    *line = text;
    *length = n;
    return BRISE_LINE;
}

int brise_line_editor_remember(brise_line_editor *editor, const char *line) {
    HistEvent event;
    if (history(editor->history, &event, H_ENTER, line) < 0) return -1;
    if (!editor->history_path) return 0;
    if (history(editor->history, &event, H_SAVE, editor->history_path) < 0) return -1;
    return chmod(editor->history_path, 0600);  // what was asked may be private
}

void brise_line_editor_close(brise_line_editor *editor) {
    if (!editor) return;
    if (editor->el) el_end(editor->el);
    if (editor->history) history_end(editor->history);
    free(editor->history_path);
    free(editor);
}
