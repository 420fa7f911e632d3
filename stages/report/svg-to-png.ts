import { fail, ok, type Result } from '../../runner/result.ts';

export interface PngRenderFailure {
  reason: 'png-renderer-unavailable';
  message: string;
}

/**
 * SVG to PNG through resvg (@resvg/resvg-js ships its native renderer as a per-platform npm
 * package: nothing is downloaded at install). Loaded on demand so that a platform without a
 * prebuilt renderer still gets every SVG, and the report says PNGs were skipped.
 */
export async function svgToPng(svg: string): Promise<Result<Uint8Array, PngRenderFailure>> {
  let Resvg: typeof import('@resvg/resvg-js').Resvg;
  try {
    ({ Resvg } = await import('@resvg/resvg-js'));
  } catch (error) {
    return fail({
      reason: 'png-renderer-unavailable',
      message: `PNG plots skipped: @resvg/resvg-js does not load here (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    });
  }
  // Twice the SVG's size, so the PNG stays sharp when shown in a slide or a paper draft.
  const rendered = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  }).render();
  return ok(rendered.asPng());
}
