"""Vertical (9:16) product video ads, composited with Pillow and encoded by ffmpeg, faster than real time.

Where things are, by reason to change:

* ``video_ad``   — the entry point: ``VideoAdSpec`` (validated), its content fingerprint, and
  ``render_video_ad`` with the on-disk cache (``RENDERER_VERSION`` is part of the cache key);
* ``storyboard`` — the look: scenes, Ken-Burns motions, crossfades, where and when each text and widget shows;
* ``text``       — fonts, measuring, wrapping and fitting text to a box, stroked and shadowed text tiles;
* ``widgets``    — the price badge (with the compare-at price struck through) and the call-to-action button;
* ``images``     — decoding product images, and the scene canvas each is pre-composed to;
* ``timeline``   — scenes, sprites and overlays, and the per-frame compositing of the frame plan;
* ``encode``     — the ffmpeg/x264 writer and the threads that compute frames ahead of it;
* ``probe``      — reading a video file's facts back with ffmpeg (verifies output and cached files).

Why it is built the way it is — where the time went. Layering ``ImageClip``/``TextClip`` objects in a
``CompositeVideoClip`` costs ~1.8 s per second of 720x1280 video on a 2-core machine (measured here: 37 CPU-s
of Python for a 12 s ad): every frame resizes every layer through moviepy's per-clip machinery, blends
full-frame masks in float numpy and converts types back and forth. Here everything that does not change over
time is prepared ONCE with Pillow, and the per-frame work is a handful of C calls:

* each scene is pre-composed to one RGB "canvas" slightly larger than the frame (the fitted image with
  rounded corners and a shadow on a blurred fill of itself); a Ken-Burns frame is ``Image.resize`` with a
  float ``box`` — crop and sub-pixel zoom in one call, so the motion is smooth;
* that resize was 85 % of the frame time (18 ms), so it is split by content: the whole frame is sampled
  NEAREST (1 ms; invisible on the blurred fill) and only the sharp product rectangle BILINEAR, with the same
  float mapping (max difference to a full bilinear resize: 2/255);
* every text overlay (headline, captions, price badge, CTA button) is rasterised once to an RGB tile plus
  an alpha mask and pasted over its own bounding box only; fades use cached pre-scaled masks; the CTA
  button's pulse is a few pre-scaled copies;
* crossfades are ``Image.blend`` (C, uint8) and only in transition frames; the end card is still, so it
  is computed once;
* the frames are composited in x264's own input format, planar YUV 4:2:0 (``timeline.Yuv420pPlan``: the
  canvases and sprites converted once, Y' at full size and chroma at half), and piped raw into one
  ffmpeg/x264 process, which then converts nothing (its RGB -> YUV conversion was ~0.9 CPU-s per 12 s ad,
  and Python resamples one band at full size instead of three); they are computed ahead on two helper
  threads (Pillow and the pipe write release the GIL), so compositing and x264 share both cores;
* x264 then becomes the larger cost, so its settings were chosen by measurement (see ``encode.X264_PRESET``).

Result for a 12 s 720x1280 ad: ~1.5 CPU-s of Python + ~2.1 CPU-s of ffmpeg (was 1.9 + 2.8 with RGB frames).
"""
