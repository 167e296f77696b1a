/**
 * The version of the faultline fault protocol and extension. The engine compares an environment's
 * extension version (FAULTLINE_EXTENSION_VERSION marker in the layer) with its own.
 */
export const FAULTLINE_VERSION = "0.1.0";
