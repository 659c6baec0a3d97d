"""The one range of a figure's width and height, in pixels, wherever it is asked for (the API,
its OpenAPI description, `annotator publish --width`): an 8000-pixel PNG is some 100 MB of
pixels in memory and takes seconds to draw. A module of its own, so the command line reads it
without loading the drawing code."""

MIN_SIDE_PX, MAX_SIDE_PX = 100, 8_000
