// Resumable upload of one photo (api/routes/uploads.py): ask the server how many bytes it
// has, send the rest chunk by chunk from there, then complete. A broken link costs at
// most the chunk in flight; the upload id is kept with the outbox entry, so even a
// reload resumes instead of restarting.
import { api, ApiError } from './net.js';

/** The upload's id (created if ``uploadId`` is null, under the Idempotency-Key
 * ``createKey``, so a lost answer does not create a second one; a known upload the server
 * has dropped is created afresh without it); ``remember(id)`` keeps a new id. */
export async function uploadBlob(blob, uploadId, chunkBytes, remember, createKey) {
  let id = uploadId;
  let offset = 0;
  if (id) {
    try {
      const state = await api(`/api/uploads/${id}`);
      if (state.complete) return id;
      offset = state.offset;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      id = null;
    }
  }
  if (!id) {
    id = (await api('/api/uploads', { method: 'POST', json: { size: blob.size }, key: uploadId ? undefined : createKey })).id;
    await remember(id);
  }
  while (offset < blob.size) {
    const chunk = blob.slice(offset, Math.min(offset + chunkBytes, blob.size));
    try {
      offset = (
        await api(`/api/uploads/${id}`, {
          method: 'PUT',
          body: chunk,
          headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) },
        })
      ).offset;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 409)) throw error;
      offset = (await api(`/api/uploads/${id}`)).offset; // another attempt got further
    }
  }
  await api(`/api/uploads/${id}/complete`, { method: 'POST' });
  return id;
}
