/* The report page's assets, embedded at build time (docs/report.md): the
 * skeleton, its style and script (assets/report/), and Chart.js from
 * Debian's libjs-chart.js (CHARTJS_PATH, set by the Makefile). .incbin
 * puts the files' bytes into the binary as they are, with no generator and
 * no C array of a 200 KB file to compile; each is followed by a NUL, so
 * html.c reads it as a string. The Makefile rebuilds this object when any
 * of the files changes (the compiler does not see .incbin's inputs). */
#ifndef CHARTJS_PATH
#error "CHARTJS_PATH must name Chart.js (the Makefile sets it)"
#endif

#define ASSET(sym, file)            \
	.global sym;                \
	.type sym, @object;         \
	.balign 16;                 \
sym:                                \
	.incbin file;               \
	.byte 0;                    \
	.size sym, . - sym

	.section .rodata
	ASSET(report_asset_page, "assets/report/report.html")
	ASSET(report_asset_css, "assets/report/report.css")
	ASSET(report_asset_js, "assets/report/report.js")
	ASSET(report_asset_chartjs, CHARTJS_PATH)

/* No executable stack for the objects that link with this one. */
	.section .note.GNU-stack, "", @progbits
