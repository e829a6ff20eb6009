/** The `.ktrec` recorder: the format, its writer and the sink that feeds it. */
export * from './format.js';
export { RecorderSink, type RecorderSinkOptions, type RecorderSinkStats } from './sink.js';
export { RecordingWriter, type RecordingWriterOptions } from './writer.js';
