// Fetching a layer for the viewport: a margin around the view is loaded with it, so small
// pans need no request; a zoom change or leaving the loaded area fetches again (the API
// simplifies by zoom), and a newer request aborts an older one.
import { bboxParam, getJSON } from './api.js';

const MARGIN = 0.5; // of the view's size, on every side

export class ViewportLoader {
  constructor(map, urlFor) {
    this.map = map;
    this.urlFor = urlFor; // (bbox, zoom) => URL
    this.loaded = null;
    this.controller = null;
  }

  covers(bounds, zoom) {
    return this.loaded !== null && this.loaded.zoom === zoom && this.loaded.bounds.contains(bounds);
  }

  /** The FeatureCollection for the current view, or null when what is loaded still covers it. */
  async fetch({ force = false } = {}) {
    const zoom = Math.round(this.map.getZoom());
    const view = this.map.getBounds();
    if (!force && this.covers(view, zoom)) return null;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const bounds = view.pad(MARGIN);
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
