/* Everything lives in the header as static inline functions; this file makes SwiftPM build a
   C target. */
#include "cncursesw.h"
