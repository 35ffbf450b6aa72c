/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* "PROG 0.1.0 (libmount 2.38.1, libblkid 2.38.1, libnfs 4.0.0, libseccomp 2.5.4, json-c 0.16)" */
void dvol_print_version(const char *prog);
