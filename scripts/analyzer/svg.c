// SPDX-License-Identifier: GPL-2.0
/*
 * Per-path, per-hop latency histograms as one hand-written SVG: a row per
 * (file, path) with chains, a panel per hop with samples.  The x axis is
 * logarithmic (the histogram's buckets are log-linear), the bar height is
 * the bucket's count relative to the panel's largest bucket; p50 and p99
 * are marked.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "irqpath.h"

#define PW	300	/* panel width */
#define PH	150
#define ML	10
#define PLOT_W	(PW - 2 * ML)
#define PLOT_H	90
#define TOP	40

static double xpos(u64 v, double lmin, double lmax)
{
	double l = log10((double)(v ? v : 1));

	if (lmax <= lmin)
		return ML;
	return ML + (l - lmin) / (lmax - lmin) * PLOT_W;
}

static const char *unit(char *b, size_t n, double ns)
{
	if (ns < 1e3)
		snprintf(b, n, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(b, n, "%.0fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(b, n, "%.0fms", ns / 1e6);
	else
		snprintf(b, n, "%.0fs", ns / 1e9);
	return b;
}

static void panel(FILE *f, const struct hist *h, const char *title, int x0, int y0)
{
	double lmin = floor(log10((double)(h->min ? h->min : 1)));
	double lmax = ceil(log10((double)(h->max ? h->max : 1) + 1));
	u32 peak = 0;
	unsigned int i;
	char b[32];
	double d;

	if (lmax <= lmin)
		lmax = lmin + 1;
	for (i = 0; i < HIST_BUCKETS; i++)
		if (h->bucket[i] > peak)
			peak = h->bucket[i];
	fprintf(f, "<g transform=\"translate(%d,%d)\">\n", x0, y0);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n", PW - 4, PH - 4);
	fprintf(f, "<text x=\"%d\" y=\"14\" font-size=\"11\" font-weight=\"bold\">%s</text>\n", ML, title);
	fprintf(f, "<text x=\"%d\" y=\"27\" font-size=\"9\">n=%" PRIu64 " p50=", ML, h->count);
	fprintf(f, "%s", unit(b, sizeof(b), (double)hist_quantile(h, 0.5)));
	fprintf(f, " p99=%s", unit(b, sizeof(b), (double)hist_quantile(h, 0.99)));
	fprintf(f, " max=%s</text>\n", unit(b, sizeof(b), (double)h->max));
	for (i = 0; i < HIST_BUCKETS && peak; i++) {
		double xa, xb, bh;

		if (!h->bucket[i])
			continue;
		xa = xpos(hist_bucket_low(i), lmin, lmax);
		xb = xpos(hist_bucket_high(i) + 1, lmin, lmax);
		if (xb - xa < 1)
			xb = xa + 1;
		bh = (double)h->bucket[i] / peak * PLOT_H;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4477aa\"/>\n",
			xa, TOP + PLOT_H - bh, xb - xa, bh);
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", ML,
		TOP + PLOT_H, ML + PLOT_W, TOP + PLOT_H);
	for (d = lmin; d <= lmax + 1e-9; d += 1) {
		double x = ML + (d - lmin) / (lmax - lmin) * PLOT_W;

		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n", x,
			TOP + PLOT_H, x, TOP + PLOT_H + 3);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"8\" text-anchor=\"%s\">%s</text>\n",
			x, TOP + PLOT_H + 12, d == lmin ? "start" : d + 1 > lmax + 1e-9 ? "end" : "middle",
			unit(b, sizeof(b), pow(10, d)));
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#cc3311\" stroke-dasharray=\"3,2\"/>\n",
		xpos(hist_quantile(h, 0.5), lmin, lmax), TOP, xpos(hist_quantile(h, 0.5), lmin, lmax),
		TOP + PLOT_H);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ee7733\" stroke-dasharray=\"1,2\"/>\n",
		xpos(hist_quantile(h, 0.99), lmin, lmax), TOP, xpos(hist_quantile(h, 0.99), lmin, lmax),
		TOP + PLOT_H);
	fprintf(f, "</g>\n");
}

static void text_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

int svg_write(const char *path, struct analysis **an, int n)
{
	int rows = 0, r, i, p, h, col;
	FILE *f;

	for (i = 0; i < n; i++)
		for (p = 0; p < P_NR; p++)
			if (an[i]->ps[p].hop[H_INJ_ENTRY].count || an[i]->ps[p].hop[H_SRC_INJ].count)
				rows++;
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"font-family=\"sans-serif\">\n", H_NR * PW + 20, (rows ? rows : 1) * (PH + 30) + 40);
	fprintf(f, "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">irqpath: per-hop latency "
		"(log x axis; red: p50, orange: p99)</text>\n");
	if (!rows)
		fprintf(f, "<text x=\"10\" y=\"50\" font-size=\"12\">no delivered chains</text>\n");
	r = 0;
	for (i = 0; i < n; i++)
		for (p = 0; p < P_NR; p++) {
			const struct path_stats *ps = &an[i]->ps[p];
			int y = 40 + r * (PH + 30);

			if (!ps->hop[H_INJ_ENTRY].count && !ps->hop[H_SRC_INJ].count)
				continue;
			fprintf(f, "<text x=\"10\" y=\"%d\" font-size=\"12\" font-weight=\"bold\">", y + 14);
			text_esc(f, path_title[p]);
			fprintf(f, " — ");
			text_esc(f, an[i]->file);
			fprintf(f, " (%" PRIu64 " chains, %" PRIu64 " delivered)</text>\n", ps->chains,
				ps->delivered);
			for (h = 0, col = 0; h < H_NR; h++) {
				if (!ps->hop[h].count)
					continue;
				panel(f, &ps->hop[h], hop_name[h], 10 + col * PW, y + 22);
				col++;
			}
			r++;
		}
	fprintf(f, "</svg>\n");
	return fclose(f) ? -1 : 0;
}
