// libedit (Debian's libedit-dev), the line editor under `brise chat`. Its configuration calls are C
// variadics Swift cannot make: CLineEditor wraps them.
#pragma once
#include <histedit.h>
