export { S3Error, S3SetupError } from "./errors.ts";
export { createS3Server } from "./server.ts";
export { isValidBucketName, ObjectStore } from "./store.ts";
