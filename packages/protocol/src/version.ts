/**
 * The version of the faultline fault protocol and extension. The layer carries it in faultline/VERSION;
 * the engine reads that file (GetLayerVersionByArn, then the layer zip) and refuses older extensions.
 */
export const FAULTLINE_VERSION = "0.1.0";
