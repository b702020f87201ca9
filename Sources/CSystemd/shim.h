// libsystemd: sd_notify, socket activation, watchdog and the journal (Debian libsystemd-dev).
#pragma once
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
