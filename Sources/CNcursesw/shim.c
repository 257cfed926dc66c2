/* The header holds the small wrappers as static inline functions; this file holds the
   crash handling, which needs state of its own. */
#include "cncursesw.h"

/* The terminal's settings before curses changed them, for the fatal-signal handler. Written
   once before the handler is installed, read only by it. */
static struct termios saved_termios;
static volatile sig_atomic_t have_saved = 0;

void cnc_save_terminal(void) {
    if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) have_saved = 1;
}

/* On a crash (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP: Swift traps are SIGILL or
   SIGTRAP) put the terminal back with async-signal-safe calls only, then die of the same
   signal as before (the handler resets itself). */
static void on_fatal_signal(int sig) {
    if (have_saved) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    static const char reset[] = "\033[?2004l\033[?1000l\033[?1002l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";
    ssize_t ignored = write(STDOUT_FILENO, reset, sizeof reset - 1);
    (void)ignored;
    raise(sig);
}

void cnc_install_fatal_handlers(void) {
    static const int signals[] = { SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP };
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_fatal_signal;
    action.sa_flags = SA_RESETHAND | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &action, NULL);
}
