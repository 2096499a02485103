// Fetching a layer for the viewport: a margin around the view is loaded with it, so small
// pans and a one-step zoom need no request (geometry simplified to one pixel at the loaded
// zoom is at most two pixels off one zoom further in); leaving the loaded area or zooming
// further fetches again, and a newer request aborts an older one. The box is snapped
// outward to a lattice, so operators looking at the same area send the same request and
// the API answers all but the first from its cache.
import { bboxParam, getJSON } from './api.js';

const MARGIN = 0.5; // of the view's size, on every side
const ZOOM_SLACK = 1;
const LATTICE_PX = 512; // lattice step in screen pixels at the requested zoom

function snapped(bounds, zoom) {
  const step = (LATTICE_PX * 360) / (256 * 2 ** zoom);
  const down = (value) => Math.floor(value / step) * step;
  const up = (value) => Math.ceil(value / step) * step;
  return L.latLngBounds(
    [down(bounds.getSouth()), down(bounds.getWest())],
    [up(bounds.getNorth()), up(bounds.getEast())],
  );
}

export class ViewportLoader {
  constructor(map, urlFor) {
    this.map = map;
    this.urlFor = urlFor; // (bbox, zoom) => URL
    this.loaded = null;
    this.controller = null;
  }

  covers(bounds, zoom) {
    return (
      this.loaded !== null &&
      Math.abs(zoom - this.loaded.zoom) <= ZOOM_SLACK &&
      this.loaded.bounds.contains(bounds)
    );
  }

  /** The FeatureCollection for the current view, or null when what is loaded still covers it. */
  async fetch({ force = false } = {}) {
    const zoom = Math.round(this.map.getZoom());
    const view = this.map.getBounds();
    if (!force && this.covers(view, zoom)) return null;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const bounds = snapped(view.pad(MARGIN), zoom);
    const collection = await getJSON(this.urlFor(bboxParam(bounds), zoom), controller.signal);
    this.loaded = { bounds, zoom };
    this.controller = null;
    return collection;
  }

  forget() {
    this.controller?.abort();
    this.loaded = null;
  }
}
