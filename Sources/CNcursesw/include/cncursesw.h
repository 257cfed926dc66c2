#ifndef CNCURSESW_H
#define CNCURSESW_H

/* The only place fluxdeck touches ncurses. Macros, attributes and globals that Swift cannot
   import (or that are unsafe under Swift 6) are wrapped in small static inline functions. */

#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <ncursesw/curses.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* Saves the terminal's settings and installs the crash handlers that put them back (shim.c). */
void cnc_save_terminal(void);
void cnc_install_fatal_handlers(void);

/* Starts curses on the terminal: raw mode (Ctrl-C arrives as a key), no echo, keypad, short
   Esc delay, default colours, mouse clicks and wheel, drawing as terminal type `term`.
   newterm, not initscr: an unknown type returns -2 instead of ncurses ending the process; -1
   when the terminal cannot be used. */
static inline int cnc_start(const char *term) {
    setlocale(LC_ALL, "");
    if (term == NULL || term[0] == 0) return -2;
    cnc_save_terminal();
    /* newterm returns NULL for a terminal type it cannot find (initscr would exit). */
    if (newterm(term, stdout, stdin) == NULL) return -2;
    cnc_install_fatal_handlers();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    mousemask(BUTTON1_PRESSED | BUTTON1_RELEASED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
    curs_set(0);
    /* Bracketed paste: the terminal marks pasted text, so its line ends are never Enter. */
    fputs("\033[?2004h", stdout);
    fflush(stdout);
    return 0;
}

/* Starts curses writing to a file (benchmarks): no terminal needed. */
static inline int cnc_start_on(FILE *out, FILE *in, const char *term, int lines, int cols) {
    setlocale(LC_ALL, "");
    SCREEN *screen = newterm(term, out, in);
    if (screen == NULL) return -1;
    set_term(screen);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    resizeterm(lines, cols);
    return 0;
}

/* Leaves curses, turning bracketed paste off first (a shell would otherwise see the markers).
   Only for screens started by cnc_start: the benchmark screen writes to a file. */
static inline void cnc_end(int interactive) {
    if (interactive) {
        fputs("\033[?2004l", stdout);
        fflush(stdout);
    }
    endwin();
}

/* Reads the terminal's size and tells curses about it (for SIGWINCH delivered to another
   thread, where curses' own handler never runs). Returns 1 when the size changed. */
static inline int cnc_sync_size(void) {
    struct winsize size;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_row == 0 || size.ws_col == 0) return 0;
    if (size.ws_row == LINES && size.ws_col == COLS) return 0;
    resizeterm(size.ws_row, size.ws_col);
    return 1;
}
static inline int cnc_is_ended(void) { return isendwin(); }
static inline int cnc_utf8(void) { return strcmp(nl_langinfo(CODESET), "UTF-8") == 0; }
static inline int cnc_lines(void) { return LINES; }
static inline int cnc_cols(void) { return COLS; }
static inline int cnc_colors(void) { return COLORS; }
static inline int cnc_color_pairs(void) { return COLOR_PAIRS; }
static inline int cnc_alloc_pair(int fg, int bg) { return alloc_pair(fg, bg); }

static inline unsigned int cnc_a_bold(void) { return A_BOLD; }
static inline unsigned int cnc_a_dim(void) { return A_DIM; }
static inline unsigned int cnc_a_italic(void) { return A_ITALIC; }
static inline unsigned int cnc_a_underline(void) { return A_UNDERLINE; }
static inline unsigned int cnc_a_reverse(void) { return A_REVERSE; }

/* Puts one grapheme (up to 5 wide characters: a base and combining marks) at (y, x). */
static inline int cnc_put(int y, int x, const wchar_t *text, unsigned int attributes, int pair) {
    cchar_t cell;
    wchar_t chars[CCHARW_MAX + 1];
    int n = 0;
    while (n < CCHARW_MAX && text[n] != 0) { chars[n] = text[n]; n++; }
    chars[n] = 0;
    if (setcchar(&cell, chars, (attr_t)attributes, 0, &pair) != OK) return ERR;
    return mvadd_wch(y, x, &cell);
}

static inline void cnc_move(int y, int x) { move(y, x); }
static inline void cnc_cursor(int visible) { curs_set(visible); }
static inline void cnc_refresh(void) { wnoutrefresh(stdscr); doupdate(); }
static inline void cnc_clear(void) { clearok(stdscr, TRUE); }
/* Tells curses that rows y..y+n-1 on screen are not what it last drew (a picture was drawn
   over them): the next refresh writes them again. */
static inline FILE *cnc_stdout(void) { return stdout; }
static inline void cnc_beep(void) { beep(); }
static inline void cnc_redrawln(int y, int n) { wredrawln(stdscr, y, n); }
/* The terminal's size in pixels and cells (0 when it does not say). */
static inline void cnc_pixel_size(int fd, int *width, int *height, int *cols, int *rows) {
    struct winsize size;
    memset(&size, 0, sizeof size);
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) memset(&size, 0, sizeof size);
    *width = size.ws_xpixel; *height = size.ws_ypixel; *cols = size.ws_col; *rows = size.ws_row;
}
static inline void cnc_timeout(int milliseconds) { wtimeout(stdscr, milliseconds); }

/* Reads one input: returns OK (a character), KEY_CODE_YES (a key code) or ERR (nothing). */
static inline int cnc_get(unsigned int *value) {
    wint_t input = 0;
    int status = get_wch(&input);
    *value = (unsigned int)input;
    return status;
}

static inline int cnc_ok(void) { return OK; }
static inline int cnc_key_code_yes(void) { return KEY_CODE_YES; }

static inline int cnc_getmouse(int *x, int *y, unsigned long *buttons) {
    MEVENT event;
    if (getmouse(&event) != OK) return ERR;
    *x = event.x;
    *y = event.y;
    *buttons = (unsigned long)event.bstate;
    return OK;
}

static inline unsigned long cnc_button1_pressed(void) { return BUTTON1_PRESSED | BUTTON1_CLICKED; }
static inline unsigned long cnc_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline unsigned long cnc_button1_released(void) { return BUTTON1_RELEASED; }
static inline unsigned long cnc_wheel_up(void) { return BUTTON4_PRESSED; }
static inline unsigned long cnc_wheel_down(void) { return BUTTON5_PRESSED; }

static inline int cnc_key_up(void) { return KEY_UP; }
static inline int cnc_key_down(void) { return KEY_DOWN; }
static inline int cnc_key_left(void) { return KEY_LEFT; }
static inline int cnc_key_right(void) { return KEY_RIGHT; }
static inline int cnc_key_home(void) { return KEY_HOME; }
static inline int cnc_key_end(void) { return KEY_END; }
static inline int cnc_key_ppage(void) { return KEY_PPAGE; }
static inline int cnc_key_npage(void) { return KEY_NPAGE; }
static inline int cnc_key_dc(void) { return KEY_DC; }
static inline int cnc_key_ic(void) { return KEY_IC; }
static inline int cnc_key_backspace(void) { return KEY_BACKSPACE; }
static inline int cnc_key_enter(void) { return KEY_ENTER; }
static inline int cnc_key_btab(void) { return KEY_BTAB; }
static inline int cnc_key_resize(void) { return KEY_RESIZE; }
static inline int cnc_key_mouse(void) { return KEY_MOUSE; }
static inline int cnc_key_f(int n) { return KEY_F(n); }
static inline int cnc_key_sleft(void) { return KEY_SLEFT; }
static inline int cnc_key_sright(void) { return KEY_SRIGHT; }
/* Shift-Up and Shift-Down: terminfo's "scroll reverse" and "scroll forward" keys. */
static inline int cnc_key_sr(void) { return KEY_SR; }
static inline int cnc_key_sf(void) { return KEY_SF; }

#endif
