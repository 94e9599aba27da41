/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hung-systemd: a systemd that does not answer. Owns org.freedesktop.systemd1
 * on the bus of DBUS_SYSTEM_BUS_ADDRESS (a private dbus-daemon of the test),
 * prints "ready", then never reads its connection again: every call to it
 * waits until the caller's timeout, as calls to a PID 1 stuck in a long
 * job or a swap storm do. For tests/systemd/daemon-hung-systemd.sh.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

int main(void) {
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);

        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r < 0) {
                fprintf(stderr, "hung-systemd: cannot own org.freedesktop.systemd1: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;)
                pause(); /* SIGTERM ends it */
}
