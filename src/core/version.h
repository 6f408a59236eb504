/* strain's version: the User-Agent, `strain version`, the summary. */
#ifndef STRAIN_CORE_VERSION_H
#define STRAIN_CORE_VERSION_H

#define STRAIN_VERSION "0.1.0"

#endif
