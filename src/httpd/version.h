/* The module's version: the one place it is written. The startup log line and
 * B/api/me report it; debian/changelog carries the same number (`make deb`
 * refuses to build when they differ). */
#ifndef RC_VERSION_H
#define RC_VERSION_H

#define RAGCHAT_VERSION "0.1.0"

#endif
